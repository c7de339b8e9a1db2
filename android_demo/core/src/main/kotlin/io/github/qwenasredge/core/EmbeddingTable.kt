// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge.core

/**
 * Token embeddings on the host (runtime/embedding.py), from the exported table:
 *   float32: weights `<f4` [V, H], rows as stored;
 *   int8:    weights `|u1` [V, H] holding q + 128, scales `<f4` [V, H / block];
 *            element h of row v = (weights[v, h] - 128) * scales[v, h / block], one float32 multiply,
 *            the same bits numpy computes.
 */
class EmbeddingTable(private val weights: NpyArray, private val scales: NpyArray?) {
    val vocabSize: Int = weights.rows
    val hiddenSize: Int = weights.columns
    private val block: Int

    init {
        if (scales == null) {
            require(weights.dtype == "<f4") { "embedding table of dtype ${weights.dtype} needs scales" }
            block = 0
        } else {
            require(weights.dtype == "|u1" && scales.dtype == "<f4" && scales.rows == weights.rows &&
                scales.columns > 0 && weights.columns % scales.columns == 0) {
                "int8 embedding table ${weights.rows}x${weights.columns} ${weights.dtype} does not fit scales ${scales.rows}x${scales.columns}"
            }
            block = weights.columns / scales.columns
        }
    }

    /** Writes the embedding of token id into out[offset, offset + hiddenSize). */
    fun row(id: Int, out: FloatArray, offset: Int) {
        require(id in 0 until vocabSize) { "token id $id outside the table of $vocabSize" }
        if (scales == null) {
            val start = id.toLong() * hiddenSize * 4
            for (h in 0 until hiddenSize) out[offset + h] = weights.data.getFloat((start + 4L * h).toInt())
            return
        }
        val rowStart = id * hiddenSize
        val scaleStart = id.toLong() * scales.columns * 4
        for (h in 0 until hiddenSize) {
            val q = (weights.data.get(rowStart + h).toInt() and 0xFF) - INT8_ZERO_POINT
            out[offset + h] = q.toFloat() * scales.data.getFloat((scaleStart + 4L * (h / block)).toInt())
        }
    }

    /** Embeddings [ids.size, hiddenSize] row-major. */
    fun rows(ids: IntArray): FloatArray {
        val out = FloatArray(ids.size * hiddenSize)
        for (i in ids.indices) row(ids[i], out, i * hiddenSize)
        return out
    }

    companion object {
        const val INT8_ZERO_POINT = 128

        fun open(manifest: ModelManifest): EmbeddingTable =
            EmbeddingTable(NpyArray.open(manifest.embedFile), manifest.embedScalesFile?.let { NpyArray.open(it) })
    }
}
