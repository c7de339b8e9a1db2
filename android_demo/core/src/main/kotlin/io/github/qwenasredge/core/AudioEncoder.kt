// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge.core

/**
 * Log-mel [128, T] -> audio embeddings [N, outputDim], chunked exactly as the official encoder and
 * runtime/encoder.py:
 *   - the mel is cut into 1 s chunks of 100 frames, the tail chunk zero-padded to 100 when T >= 100 and left
 *     unpadded for a single sub-second utterance;
 *   - a chunk gives 13 tokens (a tail of r frames keeps ceil(r / 8)): N = 13 (T / 100) + ceil((T % 100) / 8);
 *   - tokens are grouped into attention windows of 13 * windowChunks tokens, computed independently.
 * Calls the conv graph with at most 8 chunks and the transformer with at most 8 windows at a time.
 */
class AudioEncoder(private val graphs: AudioEncoderGraphs, windowChunks: Int) {
    private val windowTokens = CHUNK_TOKENS * windowChunks

    /** mel: [128][frames] row-major (LogMel.spectrogram's layout), frames >= 1. */
    fun encode(mel: FloatArray, frames: Int): FloatTensor = windows(chunkEmbeddings(mel, frames))

    /** The conv stem over 1 s chunks: [N, d]. */
    fun chunkEmbeddings(mel: FloatArray, frames: Int): FloatTensor {
        require(frames >= 1 && mel.size % frames == 0) { "mel of ${mel.size} values does not hold $frames frames" }
        val bins = mel.size / frames
        if (frames < CHUNK_FRAMES) {
            val out = graphs.convChunks(FloatTensor(mel, intArrayOf(1, bins, frames)))
            return FloatTensor(out.data, intArrayOf(out.dim(1), out.dim(2)))
        }
        val chunks = (frames + CHUNK_FRAMES - 1) / CHUNK_FRAMES
        val parts = ArrayList<FloatTensor>()
        for (first in 0 until chunks step CONV_BATCH) {
            val count = minOf(CONV_BATCH, chunks - first)
            val batch = FloatArray(count * bins * CHUNK_FRAMES)
            for (c in 0 until count) {
                val frame0 = (first + c) * CHUNK_FRAMES
                val valid = minOf(CHUNK_FRAMES, frames - frame0)
                for (m in 0 until bins) {
                    System.arraycopy(mel, m * frames + frame0, batch, (c * bins + m) * CHUNK_FRAMES, valid)
                }
            }
            parts.add(graphs.convChunks(FloatTensor(batch, intArrayOf(count, bins, CHUNK_FRAMES))))
        }
        val d = parts[0].dim(2)
        val tokens = tokensForFrames(frames)
        val out = FloatArray(tokens * d)
        var filled = 0
        for (part in parts) {
            val take = minOf(part.data.size, out.size - filled)
            System.arraycopy(part.data, 0, out, filled, take)
            filled += take
        }
        return FloatTensor(out, intArrayOf(tokens, d))
    }

    /** The transformer over independent attention windows: [N, d] -> [N, outputDim]. */
    fun windows(tokens: FloatTensor): FloatTensor {
        val n = tokens.dim(0)
        val d = tokens.dim(1)
        val full = n / windowTokens
        val parts = ArrayList<FloatTensor>()
        for (first in 0 until full step WINDOW_BATCH) {
            val count = minOf(WINDOW_BATCH, full - first)
            val group = tokens.data.copyOfRange(first * windowTokens * d, (first + count) * windowTokens * d)
            parts.add(graphs.attend(FloatTensor(group, intArrayOf(count, windowTokens, d))))
        }
        if (n % windowTokens != 0) {
            val rest = tokens.data.copyOfRange(full * windowTokens * d, n * d)
            parts.add(graphs.attend(FloatTensor(rest, intArrayOf(1, n - full * windowTokens, d))))
        }
        val outputDim = parts[0].dim(2)
        val out = FloatArray(n * outputDim)
        var filled = 0
        for (part in parts) {
            System.arraycopy(part.data, 0, out, filled, part.data.size)
            filled += part.data.size
        }
        return FloatTensor(out, intArrayOf(n, outputDim))
    }

    companion object {
        const val CHUNK_FRAMES = 100
        const val CHUNK_TOKENS = 13
        const val CONV_BATCH = 8
        const val WINDOW_BATCH = 8

        /** Encoder output length for a mel of `frames` frames (the official _get_feat_extract_output_lengths). */
        fun tokensForFrames(frames: Int): Int = CHUNK_TOKENS * (frames / CHUNK_FRAMES) + (frames % CHUNK_FRAMES + 7) / 8
    }
}
