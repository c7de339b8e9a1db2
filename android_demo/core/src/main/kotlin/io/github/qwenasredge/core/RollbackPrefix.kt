// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge.core

/**
 * The official streaming text prefix (runtime/streaming.py `rollback_prefix`): the previous raw output
 * re-tokenized minus its last unfixedTokens tokens.
 *   guard (per chunk): "" when nothing is left, and one token more is dropped while the prefix ends in a
 *                      split multi-byte character (U+FFFD in the decoded text);
 *   no guard (the final flush): at least one token is kept, no U+FFFD check.
 */
object RollbackPrefix {
    private const val REPLACEMENT_CHARACTER = '\uFFFD'

    fun of(tokenizer: BpeTokenizer, raw: String, unfixedTokens: Int, guard: Boolean): String {
        val ids = tokenizer.encode(raw)
        if (!guard) return tokenizer.decode(ids.copyOf(minOf(ids.size, maxOf(1, ids.size - unfixedTokens))), skipSpecialTokens = false)
        var k = unfixedTokens
        while (true) {
            val end = maxOf(0, ids.size - k)
            val prefix = if (end > 0) tokenizer.decode(ids.copyOf(end), skipSpecialTokens = false) else ""
            if (REPLACEMENT_CHARACTER !in prefix) return prefix
            if (end == 0) return ""
            k++
        }
    }
}
