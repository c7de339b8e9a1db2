// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge.core

/** Decodes a stretch of 16 kHz audio after a prompt: what the streaming policy needs from a recognizer. */
interface SegmentDecoder {
    /**
     * Greedy token ids generated for audio[0, length) after promptText (the ASR prompt with its single
     * <|audio_pad|>, plus any text prefix), at most maxNewTokens, without the EOS token.
     */
    fun decode(audio: FloatArray, length: Int, promptText: String, maxNewTokens: Int): IntArray
}
