// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// Desktop run of android_demo's SDK-free Kotlin core (android_demo/core) against the JNI log-mel, driven by
// tests/test_jni.py:
//   java -Djava.library.path=LIB_DIR -cp CLASSES:core.jar AndroidCoreCheckKt CASES.json OUT_DIR
// CASES.json (written by the test) names a WAV, the bundled model directory and the inputs of each check;
// OUT_DIR receives results.json and float32 files that the test compares with the Python runtime.
// ONNX graphs cannot run here (no ONNX Runtime for the JVM), so the recognizer runs on fake graphs whose
// outputs Python reproduces exactly; lines "PASS name" / "FAIL name: detail" report the checks made here.

import io.github.qwenasredge.LogMel
import io.github.qwenasredge.core.AsrOutput
import io.github.qwenasredge.core.AsrPrompt
import io.github.qwenasredge.core.AudioEncoder
import io.github.qwenasredge.core.AudioEncoderGraphs
import io.github.qwenasredge.core.BpeTokenizer
import io.github.qwenasredge.core.DecoderCache
import io.github.qwenasredge.core.DecoderGraph
import io.github.qwenasredge.core.DecoderOutput
import io.github.qwenasredge.core.EmbeddingTable
import io.github.qwenasredge.core.FloatTensor
import io.github.qwenasredge.core.JsonObject
import io.github.qwenasredge.core.ModelManifest
import io.github.qwenasredge.core.OfficialStream
import io.github.qwenasredge.core.Recognizer
import io.github.qwenasredge.core.RollbackPrefix
import io.github.qwenasredge.core.SegmentDecoder
import io.github.qwenasredge.core.StreamOptions
import io.github.qwenasredge.core.WavReader
import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.util.Random

fun main(args: Array<String>) {
    val cases = JsonObject.parse(File(args[0]).readText(), args[0])
    val out = File(args[1])
    val results = LinkedHashMap<String, Any?>()
    val audio = WavReader.read(File(cases.string("wav")))
    writeFloats(File(out, "features.f32"), LogMel.spectrogram(audio))

    val manifest = ModelManifest.load(File(cases.string("model_dir")))
    results["manifest"] = mapOf("num_layers" to manifest.numLayers, "num_kv_heads" to manifest.numKvHeads,
        "head_dim" to manifest.headDim, "hidden_size" to manifest.hiddenSize, "audio_token_id" to manifest.audioTokenId,
        "eos_token_ids" to manifest.eosTokenIds.toList(), "window_chunks" to manifest.windowChunks,
        "languages" to manifest.languages, "decoder" to manifest.decoderFile.name)
    val tokenizer = BpeTokenizer.load(manifest.tokenizerFile)
    val table = EmbeddingTable.open(manifest)

    results["encode"] = strings(cases.list("encode")).map { tokenizer.encode(it).toList() }
    results["decode"] = idLists(cases.list("decode")).map { tokenizer.decode(it) }
    results["decode_keep_special"] = idLists(cases.list("decode")).map { tokenizer.decode(it, skipSpecialTokens = false) }
    results["prompts"] = objects(cases.list("prompts")).map {
        val text = AsrPrompt.text(it.string("context"), it.stringOrNull("language"))
        AsrPrompt.idsWithAudio(tokenizer, text, manifest.audioTokenId, it.int("audio_tokens")).toList()
    }
    results["parse"] = objects(cases.list("parse")).map {
        val parsed = AsrOutput.parse(it.string("raw"), it.stringOrNull("forced"))
        listOf(parsed.language, parsed.text)
    }
    results["rollback"] = objects(cases.list("rollback")).map {
        RollbackPrefix.of(tokenizer, it.string("raw"), it.int("unfixed"), it.boolean("guard"))
    }
    results["tokens_for_frames"] = ints(cases.list("frames")).map { AudioEncoder.tokensForFrames(it) }
    writeFloats(File(out, "embed.f32"), table.rows(ints(cases.list("embed_ids"))))

    results["recognizer"] = checkRecognizer(manifest, table, tokenizer, audio, out)
    results["streams"] = objects(cases.list("streams")).map { runStream(it, tokenizer, audio) }
    File(out, "results.json").writeText(toJson(results))
}

/** Recognizer.transcribe on fake encoder graphs and a scripted decoder; writes the prefill embeddings. */
private fun checkRecognizer(manifest: ModelManifest, table: EmbeddingTable, tokenizer: BpeTokenizer, audio: FloatArray,
                            out: File): Map<String, Any?> {
    val script = tokenizer.encode("language English<asr_text>set the office temperature")
    val decoder = ScriptedDecoder(script, manifest.eosTokenIds[0], table.vocabSize)
    val recognizer = Recognizer(manifest, AudioEncoder(FakeEncoderGraphs(), manifest.windowChunks), decoder, table, tokenizer)
    val result = recognizer.transcribe(audio)
    writeFloats(File(out, "prompt_embeds.f32"), decoder.prefillEmbeds)
    check("scripted transcript", result.language == "English" && result.text == "set the office temperature") {
        "${result.language} / ${result.text}"
    }
    check("every decoder cache closed", decoder.openCaches == 0) { "${decoder.openCaches} open" }
    check("decode steps use the prompt as prefix and a growing past", decoder.stepsConsistent()) { decoder.calls.toString() }
    check("EOS ends decoding", decoder.calls.size == script.size + 1) { "${decoder.calls.size} calls" }
    return mapOf("prompt_length" to decoder.promptLength, "calls" to decoder.calls.size)
}

/** An OfficialStream fed in random pieces, decoding with a scripted SegmentDecoder; the chunk log. */
private fun runStream(case: JsonObject, tokenizer: BpeTokenizer, audio: FloatArray): Map<String, Any?> {
    val targets = strings(case.list("targets"))
    val language = case.stringOrNull("language")
    val chunks = ArrayList<Any?>()
    val decoder = object : SegmentDecoder {
        var calls = 0
        val base = AsrPrompt.text("", language)

        override fun decode(audio: FloatArray, length: Int, promptText: String, maxNewTokens: Int): IntArray {
            val target = targets[minOf(calls++, targets.size - 1)]
            val prefix = promptText.substring(base.length)
            val ids = tokenizer.encode(if (target.startsWith(prefix)) target.substring(prefix.length) else target)
            chunks.add(mutableMapOf<String, Any?>("length" to length))
            return ids.copyOf(minOf(ids.size, maxNewTokens))
        }
    }
    val stream = OfficialStream(decoder, tokenizer, "", language, StreamOptions()) { prefix, raw, update ->
        @Suppress("UNCHECKED_CAST")
        val chunk = chunks[chunks.size - 1] as MutableMap<String, Any?>
        chunk["prefix"] = prefix
        chunk["raw"] = raw
        chunk["fixed"] = update.fixedText
        chunk["partial"] = update.partialText
    }
    val random = Random(case.long("seed"))
    val samples = audio.copyOf(case.int("samples"))
    var position = 0
    while (position < samples.size) {
        val length = minOf(samples.size - position, random.nextInt(12000))
        stream.feed(samples, position, length)
        position += length
    }
    val last = stream.finish()
    check("finish is idempotent", stream.finish() === last) { "a second finish() changed the update" }
    return mapOf("chunks" to chunks, "fixed" to last.fixedText, "partial" to last.partialText, "language" to last.language)
}

/** encoder_conv: token j of chunk c is frame 8 j of the chunk (all bins); encoder_transformer: the input with
 * element 0 of every token set to the window length. Exact copies, so Python reproduces them bit for bit. */
private class FakeEncoderGraphs : AudioEncoderGraphs {
    override fun convChunks(chunks: FloatTensor): FloatTensor {
        val n = chunks.dim(0)
        val bins = chunks.dim(1)
        val frames = chunks.dim(2)
        val tokens = (frames + 7) / 8
        val out = FloatArray(n * tokens * bins)
        for (c in 0 until n) for (j in 0 until tokens) for (m in 0 until bins) {
            out[(c * tokens + j) * bins + m] = chunks.data[(c * bins + m) * frames + 8 * j]
        }
        return FloatTensor(out, intArrayOf(n, tokens, bins))
    }

    override fun attend(windows: FloatTensor): FloatTensor {
        val out = windows.data.copyOf()
        val d = windows.dim(2)
        for (t in 0 until windows.dim(0) * windows.dim(1)) out[t * d] = windows.dim(1).toFloat()
        return FloatTensor(out, windows.shape)
    }
}

/** A decoder whose argmax follows a script, then EOS; it records its calls and counts open caches. */
private class ScriptedDecoder(private val script: IntArray, private val eos: Int, private val vocab: Int) : DecoderGraph {
    var openCaches = 0
    var promptLength = -1
    var prefillEmbeds = FloatArray(0)
    val calls = ArrayList<List<Int>>()  // [first position, length, prefix length, past length]

    private inner class Cache(override val length: Int) : DecoderCache {
        private var closed = false

        init {
            openCaches++
        }

        override fun close() {
            if (closed) throw IllegalStateException("cache closed twice")
            closed = true
            openCaches--
        }
    }

    override fun emptyCache(): DecoderCache = Cache(0)

    override fun run(embeds: FloatArray, length: Int, firstPosition: Int, prefix: DecoderCache, past: DecoderCache): DecoderOutput {
        if (firstPosition == 0) {
            promptLength = length
            prefillEmbeds = embeds.copyOf()
        }
        calls.add(listOf(firstPosition, length, prefix.length, past.length))
        val step = firstPosition + length - promptLength
        val logits = FloatArray(vocab)
        logits[if (step < script.size) script[step] else eos] = 1f
        return DecoderOutput(logits, Cache(past.length + length))
    }

    fun stepsConsistent(): Boolean = calls.withIndex().all { (i, call) ->
        if (i == 0) call == listOf(0, promptLength, 0, 0) else call == listOf(promptLength + i - 1, 1, promptLength, i - 1)
    }
}

private fun check(name: String, ok: Boolean, detail: () -> String) {
    println(if (ok) "PASS $name" else "FAIL $name: ${detail()}")
}

private fun strings(values: List<Any?>): List<String> = values.map { it as String }

private fun ints(values: List<*>): IntArray = values.map { (it as Long).toInt() }.toIntArray()

private fun idLists(values: List<Any?>): List<IntArray> = values.map { ints(it as List<*>) }

@Suppress("UNCHECKED_CAST")
private fun objects(values: List<Any?>): List<JsonObject> = values.map { JsonObject(it as Map<String, Any?>, "case") }

private fun writeFloats(file: File, values: FloatArray) {
    val bytes = ByteBuffer.allocate(4 * values.size).order(ByteOrder.LITTLE_ENDIAN)
    bytes.asFloatBuffer().put(values)
    file.writeBytes(bytes.array())
}

/** JSON of maps, lists, strings, numbers, booleans and null; non-ASCII characters as \\u escapes. */
private fun toJson(value: Any?): String = when (value) {
    null -> "null"
    is String -> buildString {
        append('"')
        for (c in value) {
            if (c == '"' || c == '\\') append('\\').append(c)
            else if (c < ' ' || c > '~') append(String.format("\\u%04x", c - '\u0000'))
            else append(c)
        }
        append('"')
    }
    is Map<*, *> -> value.entries.joinToString(",", "{", "}") { toJson(it.key as String) + ":" + toJson(it.value) }
    is List<*> -> value.joinToString(",", "[", "]") { toJson(it) }
    is Number, is Boolean -> value.toString()
    else -> throw IllegalArgumentException("no JSON for $value")
}
