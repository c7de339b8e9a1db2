// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge.core

import java.io.File

/** An unusable model directory: missing, partial, foreign, or of another format version. */
class ModelDirException(message: String) : RuntimeException(message)

/**
 * What the app reads from an exported ASR model directory's manifest.json (written by
 * `qwen-asr-edge export` / `quantize`; runtime/model_dir.py reads the same fields).
 *
 * [load] checks the format name and version, the kind (`asr`), and that every listed file exists with the
 * size the manifest gives; sha256 hashes are not recomputed on the device (check them on the workstation
 * with `qwen-asr-edge info DIR --verify` before copying).
 */
class ModelManifest(
    val directory: File,
    val encoderConvFile: File,
    val encoderTransformerFile: File,
    val decoderFile: File,
    val tokenizerFile: File,
    /** The token table: float32 [V, H], or uint8 int8-blocks with [embedScalesFile] (runtime/embedding.py). */
    val embedFile: File,
    val embedScalesFile: File?,
    val numLayers: Int,
    val numKvHeads: Int,
    val headDim: Int,
    val hiddenSize: Int,
    val audioTokenId: Int,
    val eosTokenIds: IntArray,
    /** Conv chunks (of 100 frames, 13 tokens) per encoder attention window: 8 for Qwen3-ASR. */
    val windowChunks: Int,
    val languages: List<String>
) {
    companion object {
        const val FORMAT_NAME = "qwen-asr-edge"
        const val FORMAT_VERSION = 1L

        fun load(directory: File): ModelManifest {
            val manifestFile = File(directory, "manifest.json")
            if (!manifestFile.isFile) {
                throw ModelDirException("$directory: no manifest.json (not an exported qwen-asr-edge model directory)")
            }
            val manifest = try {
                JsonObject.parse(manifestFile.readText(), "manifest.json")
            } catch (e: JsonException) {
                throw ModelDirException("$manifestFile: corrupt (${e.message})")
            }
            if (manifest.stringOrNull("format") != FORMAT_NAME) throw ModelDirException("$manifestFile: not a $FORMAT_NAME manifest")
            if (manifest.map["format_version"] != FORMAT_VERSION) {
                throw ModelDirException("$directory: model format version ${manifest.map["format_version"]}, this app reads " +
                    "version $FORMAT_VERSION; re-export the model")
            }
            if (manifest.stringOrNull("kind") != "asr") throw ModelDirException("$directory: a '${manifest.map["kind"]}' model, expected 'asr'")
            if (manifest.has("static")) {
                throw ModelDirException("$directory: static-shape NPU graphs (export --static); this app runs the " +
                    "dynamic-shape export (qwen-asr-edge export without --static, or quantize)")
            }
            checkSizes(directory, manifest.obj("files"))
            val graphs = manifest.obj("graphs")
            val model = manifest.obj("model")
            val embed = manifest.obj("embed_tokens")
            fun file(name: String) = File(directory, name)
            return ModelManifest(
                directory = directory,
                encoderConvFile = file(graphs.obj("encoder_conv").string("file")),
                encoderTransformerFile = file(graphs.obj("encoder_transformer").string("file")),
                decoderFile = file(graphs.obj("decoder").string("file")),
                tokenizerFile = file(manifest.obj("tokenizer").string("file")),
                embedFile = file(embed.string("file")),
                embedScalesFile = embed.stringOrNull("scales")?.let { file(it) },
                numLayers = model.int("num_layers"),
                numKvHeads = model.int("num_kv_heads"),
                headDim = model.int("head_dim"),
                hiddenSize = model.int("hidden_size"),
                audioTokenId = model.int("audio_token_id"),
                eosTokenIds = model.list("eos_token_ids").map { (it as Long).toInt() }.toIntArray(),
                windowChunks = model.int("window_chunks"),
                languages = if (model.has("support_languages")) model.list("support_languages").map { it as String } else emptyList()
            )
        }

        private fun checkSizes(directory: File, files: JsonObject) {
            for (name in files.map.keys) {
                val file = File(directory, name)
                val expected = files.obj(name).long("size")
                if (!file.isFile) throw ModelDirException("$directory: $name is missing (partial copy?)")
                if (file.length() != expected) {
                    throw ModelDirException("$directory: $name has ${file.length()} bytes, manifest.json says $expected (partial copy?)")
                }
            }
        }
    }
}
