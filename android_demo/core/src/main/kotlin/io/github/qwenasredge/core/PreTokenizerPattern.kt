// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge.core

import java.util.regex.Pattern

/**
 * Compiles a tokenizer.json `Split` regex (written for Oniguruma, which the `tokenizers` library uses) so
 * that java.util.regex on the desktop JVM and Android's ICU-based java.util.regex match the same text.
 *
 * The one difference that matters for Qwen's pattern is `\s`: Oniguruma's is Unicode White_Space, Java's is
 * ASCII only unless UNICODE_CHARACTER_CLASS, a flag Android does not offer. `\s` and `\S` are therefore
 * rewritten into explicit White_Space classes; `\p{...}` classes, `(?!...)` and the rest mean the same in
 * all three engines.
 */
object PreTokenizerPattern {
    /** Unicode White_Space, as the contents of a character class. */
    private const val WHITE_SPACE = "\\t\\n\\u000B\\f\\r \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000"

    fun compile(pattern: String): Pattern = Pattern.compile(rewrite(pattern))

    /** pattern with `\s` / `\S` spelled out; throws IllegalArgumentException for `\S` inside a class. */
    fun rewrite(pattern: String): String {
        val out = StringBuilder()
        var inClass = false
        var i = 0
        while (i < pattern.length) {
            val c = pattern[i]
            if (c == '\\' && i + 1 < pattern.length) {
                val escaped = pattern[i + 1]
                when {
                    escaped == 's' -> out.append(if (inClass) WHITE_SPACE else "[$WHITE_SPACE]")
                    escaped == 'S' && !inClass -> out.append("[^$WHITE_SPACE]")
                    escaped == 'S' -> throw IllegalArgumentException("pre-tokenizer regex: \\S inside a character class is not supported")
                    else -> out.append(c).append(escaped)
                }
                i += 2
                continue
            }
            if (c == '[' && !inClass) inClass = true else if (c == ']' && inClass) inClass = false
            out.append(c)
            i++
        }
        return out.toString()
    }
}
