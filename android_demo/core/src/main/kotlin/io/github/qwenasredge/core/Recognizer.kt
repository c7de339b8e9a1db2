// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge.core

import io.github.qwenasredge.LogMel

/**
 * Speech to text with an exported model (runtime/transcriber.py `Transcriber.generate`, greedy): 16 kHz
 * audio -> log-mel (the C++ core through JNI) -> [AudioEncoder] -> the prompt's token embeddings with the
 * audio embeddings in its <|audio_pad|> slots -> [GreedyDecoding]. Audio over 30 s should be cut into
 * windows first (the official wrapper's rule; [OfficialStream] cuts its segments at 30 s).
 */
class Recognizer(
    private val manifest: ModelManifest,
    private val encoder: AudioEncoder,
    private val decoder: DecoderGraph,
    private val embeddings: EmbeddingTable,
    val tokenizer: BpeTokenizer
) : SegmentDecoder {
    init {
        require(embeddings.hiddenSize == manifest.hiddenSize) {
            "token table width ${embeddings.hiddenSize} differs from the model's hidden size ${manifest.hiddenSize}"
        }
    }

    override fun decode(audio: FloatArray, length: Int, promptText: String, maxNewTokens: Int): IntArray {
        val samples = if (length == audio.size) audio else audio.copyOf(length)
        val frames = LogMel.numFrames(length)
        require(frames >= 1) { "audio of $length samples is too short (at least ${LogMel.HOP_LENGTH} samples)" }
        val audioEmbeds = encoder.encode(LogMel.spectrogram(samples), frames)
        val ids = AsrPrompt.idsWithAudio(tokenizer, promptText, manifest.audioTokenId, audioEmbeds.dim(0))
        return GreedyDecoding.decode(decoder, embeddings, promptEmbeds(ids, audioEmbeds), ids.size,
            manifest.eosTokenIds, maxNewTokens)
    }

    /** A whole utterance (at most about 30 s) with the offline generation limit of the Python runtime. */
    fun transcribe(audio: FloatArray, context: String = "", language: String? = null): AsrText {
        val maxNewTokens = 16 + Math.ceil(16.0 * audio.size / LogMel.SAMPLE_RATE).toInt()
        val tokens = decode(audio, audio.size, AsrPrompt.text(context, language), maxNewTokens)
        return AsrOutput.parse(tokenizer.decode(tokens), language)
    }

    /** Token table rows of ids [S, H], the audio embeddings [N, H] written into the N audio slots in order. */
    private fun promptEmbeds(ids: IntArray, audioEmbeds: FloatTensor): FloatArray {
        val hidden = embeddings.hiddenSize
        require(audioEmbeds.dim(1) == hidden) { "audio embeddings of width ${audioEmbeds.dim(1)}, the decoder takes $hidden" }
        val prompt = embeddings.rows(ids)
        var next = 0
        for (s in ids.indices) {
            if (ids[s] != manifest.audioTokenId) continue
            System.arraycopy(audioEmbeds.data, next * hidden, prompt, s * hidden, hidden)
            next++
        }
        return prompt
    }
}
