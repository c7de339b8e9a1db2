// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge.demo

import ai.onnxruntime.OnnxTensor
import ai.onnxruntime.OrtEnvironment
import ai.onnxruntime.OrtSession
import io.github.qwenasredge.core.AudioEncoderGraphs
import io.github.qwenasredge.core.DecoderCache
import io.github.qwenasredge.core.DecoderGraph
import io.github.qwenasredge.core.DecoderOutput
import io.github.qwenasredge.core.FloatTensor
import java.nio.FloatBuffer
import java.nio.LongBuffer

private fun shapeOf(tensor: OnnxTensor): IntArray = tensor.info.shape.map { it.toInt() }.toIntArray()

private fun floatsOf(tensor: OnnxTensor): FloatArray {
    val buffer = tensor.floatBuffer
    return FloatArray(buffer.remaining()).also { buffer.get(it) }
}

/** encoder_conv (`mel_chunks` -> `chunk_embeds`) and encoder_transformer (`windows` -> `audio_embeds`) sessions. */
class OrtEncoderGraphs(private val conv: OrtSession, private val transformer: OrtSession) : AudioEncoderGraphs {
    private val env = OrtEnvironment.getEnvironment()

    override fun convChunks(chunks: FloatTensor): FloatTensor = run(conv, "mel_chunks", chunks)

    override fun attend(windows: FloatTensor): FloatTensor = run(transformer, "windows", windows)

    private fun run(session: OrtSession, input: String, value: FloatTensor): FloatTensor {
        val shape = LongArray(value.shape.size) { value.shape[it].toLong() }
        OnnxTensor.createTensor(env, FloatBuffer.wrap(value.data), shape).use { tensor ->
            session.run(mapOf(input to tensor)).use { result ->
                val out = result.get(0) as OnnxTensor
                return FloatTensor(floatsOf(out), shapeOf(out))
            }
        }
    }
}

/**
 * The decoder session (runtime/decoder.py's I/O): `inputs_embeds`, `position_ids`, `prefix.i.key/value` and
 * `past.i.key/value` in; `logits` and `present.i.key/value` out. A present cache stays inside ONNX Runtime
 * (the tensors of the run's Result) and is fed back as the next past without copying; closing the cache
 * closes that Result.
 */
class OrtDecoderGraph(
    private val session: OrtSession,
    private val numLayers: Int,
    private val kvHeads: Int,
    private val headDim: Int,
    private val hiddenSize: Int
) : DecoderGraph {
    private val env = OrtEnvironment.getEnvironment()

    private class Cache(
        val keys: List<OnnxTensor>,
        val values: List<OnnxTensor>,
        override val length: Int,
        private val owner: AutoCloseable
    ) : DecoderCache {
        override fun close() = owner.close()
    }

    override fun emptyCache(): DecoderCache {
        val shape = longArrayOf(1, kvHeads.toLong(), 0, headDim.toLong())
        val tensors = List(2 * numLayers) { OnnxTensor.createTensor(env, FloatBuffer.allocate(0), shape) }
        return Cache(tensors.subList(0, numLayers), tensors.subList(numLayers, 2 * numLayers), 0,
            AutoCloseable { tensors.forEach { it.close() } })
    }

    override fun run(embeds: FloatArray, length: Int, firstPosition: Int, prefix: DecoderCache, past: DecoderCache): DecoderOutput {
        prefix as Cache
        past as Cache
        val embedsTensor = OnnxTensor.createTensor(env, FloatBuffer.wrap(embeds, 0, length * hiddenSize),
            longArrayOf(1, length.toLong(), hiddenSize.toLong()))
        val positions = OnnxTensor.createTensor(env, LongBuffer.wrap(LongArray(length) { firstPosition + it.toLong() }),
            longArrayOf(1, length.toLong()))
        try {
            val inputs = HashMap<String, OnnxTensor>()
            inputs["inputs_embeds"] = embedsTensor
            inputs["position_ids"] = positions
            for (i in 0 until numLayers) {
                inputs["prefix.$i.key"] = prefix.keys[i]
                inputs["prefix.$i.value"] = prefix.values[i]
                inputs["past.$i.key"] = past.keys[i]
                inputs["past.$i.value"] = past.values[i]
            }
            val result = session.run(inputs)
            try {
                fun output(name: String) = result.get(name).orElseThrow { IllegalStateException("decoder has no output $name") } as OnnxTensor
                val logits = floatsOf(output("logits"))
                val keys = List(numLayers) { output("present.$it.key") }
                val values = List(numLayers) { output("present.$it.value") }
                return DecoderOutput(logits, Cache(keys, values, past.length + length, result))
            } catch (e: Throwable) {
                result.close()
                throw e
            }
        } finally {
            embedsTensor.close()
            positions.close()
        }
    }
}
