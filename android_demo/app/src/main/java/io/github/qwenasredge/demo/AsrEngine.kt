// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge.demo

import ai.onnxruntime.OrtSession
import io.github.qwenasredge.core.AudioEncoder
import io.github.qwenasredge.core.BpeTokenizer
import io.github.qwenasredge.core.EmbeddingTable
import io.github.qwenasredge.core.ModelManifest
import io.github.qwenasredge.core.Recognizer
import java.io.Closeable
import java.io.File

/** An exported model directory opened with ONNX Runtime: its [Recognizer] and the sessions behind it. */
class AsrEngine private constructor(val recognizer: Recognizer, val usesQnn: Boolean, private val sessions: List<OrtSession>) : Closeable {
    override fun close() = sessions.forEach { it.close() }

    companion object {
        /** Opens directory (manifest.json and the files it lists); qnnLibraryDir enables the QNN EP plugin. */
        fun open(directory: File, threads: Int, qnnLibraryDir: File?): AsrEngine {
            val manifest = ModelManifest.load(directory)
            val ort = OrtSessions(threads, qnnLibraryDir)
            val sessions = ArrayList<OrtSession>()
            try {
                val conv = ort.open(manifest.encoderConvFile).also { sessions.add(it) }
                val transformer = ort.open(manifest.encoderTransformerFile).also { sessions.add(it) }
                val decoder = ort.open(manifest.decoderFile).also { sessions.add(it) }
                val recognizer = Recognizer(
                    manifest,
                    AudioEncoder(OrtEncoderGraphs(conv, transformer), manifest.windowChunks),
                    OrtDecoderGraph(decoder, manifest.numLayers, manifest.numKvHeads, manifest.headDim, manifest.hiddenSize),
                    EmbeddingTable.open(manifest),
                    BpeTokenizer.load(manifest.tokenizerFile)
                )
                return AsrEngine(recognizer, ort.usesQnn, sessions)
            } catch (e: Throwable) {
                sessions.forEach { it.close() }
                throw e
            }
        }
    }
}
