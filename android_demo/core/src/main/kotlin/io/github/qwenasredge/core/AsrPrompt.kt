// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge.core

/**
 * The official Qwen3-ASR prompt (runtime/prompt.py): the chat template with the system turn always present,
 *   <|im_start|>system\n{context}<|im_end|>\n<|im_start|>user\n<|audio_start|><|audio_pad|><|audio_end|><|im_end|>\n
 *   <|im_start|>assistant\n[language {Name}<asr_text>]
 * The whole text is encoded at once (as the official processor does) and its single <|audio_pad|> is then
 * expanded to one token per audio embedding.
 */
object AsrPrompt {
    const val AUDIO_PAD = "<|audio_pad|>"

    /** The prompt text; a non-null language forces it (the model then writes only the transcript). */
    fun text(context: String, language: String?): String {
        val prompt = "<|im_start|>system\n$context<|im_end|>\n<|im_start|>user\n" +
            "<|audio_start|>$AUDIO_PAD<|audio_end|><|im_end|>\n<|im_start|>assistant\n"
        return if (language != null) "${prompt}language $language<asr_text>" else prompt
    }

    /** Token ids of text whose single <|audio_pad|> becomes audioTokens copies of audioTokenId. */
    fun idsWithAudio(tokenizer: BpeTokenizer, text: String, audioTokenId: Int, audioTokens: Int): IntArray {
        val ids = tokenizer.encode(text)
        val at = ids.indexOf(audioTokenId)
        require(at >= 0 && ids.lastIndexOf(audioTokenId) == at) { "the prompt must hold exactly one $AUDIO_PAD (not in the context)" }
        val out = IntArray(ids.size - 1 + audioTokens)
        System.arraycopy(ids, 0, out, 0, at)
        for (k in 0 until audioTokens) out[at + k] = audioTokenId
        System.arraycopy(ids, at + 1, out, at + audioTokens, ids.size - at - 1)
        return out
    }
}
