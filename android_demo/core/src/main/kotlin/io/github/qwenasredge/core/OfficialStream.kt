// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge.core

/** The official streaming defaults (qwen-asr `init_streaming_state`), plus a segment length limit. */
class StreamOptions(
    val chunkSeconds: Double = 2.0,
    val unfixedChunks: Int = 2,
    val unfixedTokens: Int = 5,
    val maxNewTokens: Int = 32,
    /** A segment is closed after this much audio and a new one starts afresh (bounded cost per chunk). */
    val maxSegmentSeconds: Double = 30.0
)

/** The transcript after a chunk: fixedText will not change any more, partialText may. */
class StreamUpdate(val fixedText: String, val partialText: String, val language: String, val chunks: Int, val final: Boolean)

/**
 * Live transcription with the official `streaming_transcribe` policy, by re-decoding (runtime/streaming.py
 * reaches the same outputs while recomputing less; this is the simple form for the demo app): every
 * chunkSeconds of audio, all audio of the current segment is decoded after the prompt plus a text prefix:
 * none for the first unfixedChunks chunks, afterwards the previous raw output minus its last unfixedTokens
 * tokens ([RollbackPrefix]); at most maxNewTokens tokens per chunk; raw = prefix + generated text.
 * [finish] decodes the rest (shorter than a chunk) the same way as a final flush. The cost of a chunk grows
 * with the segment, so a segment is closed (its text committed) once it holds maxSegmentSeconds of audio.
 *
 * Not thread-safe: feed and finish from one thread (the app's decoding thread).
 */
class OfficialStream(
    private val decoder: SegmentDecoder,
    private val tokenizer: BpeTokenizer,
    context: String = "",
    /** A canonical language name ("English") forces the language; null lets the model detect it. */
    private val language: String? = null,
    private val options: StreamOptions = StreamOptions(),
    /** Called after every decoded chunk with its prefix and raw output (diagnostics, tests). */
    private val onChunk: ((prefix: String, raw: String, update: StreamUpdate) -> Unit)? = null
) {
    private val promptText = AsrPrompt.text(context, language)
    private val chunkSamples = maxOf(1, Math.round(options.chunkSeconds * SAMPLE_RATE).toInt())
    private val maxSegmentSamples = Math.round(options.maxSegmentSeconds * SAMPLE_RATE)
    private var segment = FloatArray(0)  // audio of the current segment handed to the decoder
    private var segmentLength = 0
    private var pending = FloatArray(0)  // audio not yet making up a chunk
    private var pendingLength = 0
    private var segmentChunks = 0
    private var raw = ""
    private val committed = ArrayList<AsrText>()
    private var totalChunks = 0
    private var finished = false
    private var last = StreamUpdate("", "", "", 0, false)

    /** Appends samples[offset, offset + length) (16 kHz mono, float in [-1, 1]) and decodes every chunk they complete. */
    fun feed(samples: FloatArray, offset: Int = 0, length: Int = samples.size - offset): StreamUpdate {
        check(!finished) { "feed() after finish()" }
        require(offset >= 0 && length >= 0 && offset + length <= samples.size) { "range outside the samples" }
        pending = ensureCapacity(pending, pendingLength + length)
        System.arraycopy(samples, offset, pending, pendingLength, length)
        pendingLength += length
        while (pendingLength >= chunkSamples) {
            take(chunkSamples, final = false)
            if (segmentLength >= maxSegmentSamples) commit()
        }
        return last
    }

    /** Decodes the remaining audio (shorter than a chunk) and closes the stream; the last update. Idempotent. */
    fun finish(): StreamUpdate {
        if (!finished) {
            take(pendingLength, final = true)
            finished = true
            commit()
        }
        return last
    }

    private fun take(samples: Int, final: Boolean) {
        segment = ensureCapacity(segment, segmentLength + samples)
        System.arraycopy(pending, 0, segment, segmentLength, samples)
        System.arraycopy(pending, samples, pending, 0, pendingLength - samples)
        pendingLength -= samples
        segmentLength += samples
        if (samples > 0 && (segmentChunks > 0 || samples >= MIN_SAMPLES)) decodeChunk(final)
    }

    private fun decodeChunk(final: Boolean) {
        val prefix = prefix(final)
        val tokens = decoder.decode(segment, segmentLength, promptText + prefix, options.maxNewTokens)
        raw = prefix + tokenizer.decode(tokens)
        segmentChunks++
        totalChunks++
        last = update(false)
        onChunk?.invoke(prefix, raw, last)
    }

    private fun prefix(final: Boolean): String =
        if (segmentChunks < options.unfixedChunks) "" else RollbackPrefix.of(tokenizer, raw, options.unfixedTokens, guard = !final)

    /** Closes the current segment: its parsed text becomes fixed; the next segment starts afresh. */
    private fun commit() {
        if (segmentChunks > 0) committed.add(AsrOutput.parse(raw, language))
        segment = FloatArray(0)
        segmentLength = 0
        segmentChunks = 0
        raw = ""
        last = update(finished)
    }

    private fun update(final: Boolean): StreamUpdate {
        var fixed = committed.joinToString("") { it.text }
        val languages = ArrayList<String>()
        for (text in committed) languages.add(text.language)
        var partial = ""
        if (segmentChunks > 0) {
            val current = AsrOutput.parse(raw, language)
            languages.add(current.language)
            val keptPrefix = prefix(false)
            val kept = if (keptPrefix.isEmpty()) "" else AsrOutput.parse(keptPrefix, language).text
            val shared = commonPrefixLength(current.text, kept)
            fixed += current.text.substring(0, shared)
            partial = current.text.substring(shared)
        }
        return StreamUpdate(fixed, partial, AsrOutput.mergeLanguages(languages), totalChunks, final)
    }

    companion object {
        const val SAMPLE_RATE = 16000
        /** 0.1 s: a first chunk shorter than this is not decoded (not one encoder token of audio). */
        const val MIN_SAMPLES = SAMPLE_RATE / 10

        private fun ensureCapacity(array: FloatArray, size: Int): FloatArray =
            if (size <= array.size) array else array.copyOf(maxOf(size, array.size * 2))

        /** Shared leading characters of a and b, never ending inside a surrogate pair (Python counts code points). */
        private fun commonPrefixLength(a: String, b: String): Int {
            var n = 0
            while (n < a.length && n < b.length && a[n] == b[n]) n++
            return if (n in 1 until a.length && Character.isHighSurrogate(a[n - 1])) n - 1 else n
        }
    }
}
