// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge.core

/** A parsed generation: the language the model named ("" when none) and the transcript. */
class AsrText(val language: String, val text: String)

/**
 * Turning a raw generation (`language English<asr_text>transcript`) into language and text, as the
 * official `parse_asr_output` does (runtime/postprocess.py): repetitions collapsed first (a run of one
 * character longer than 20 becomes one; then, left to right, the first pattern of 1..20 characters repeated
 * at least 20 times becomes one copy and the rest is scanned again). Characters are Unicode code points,
 * as in Python.
 */
object AsrOutput {
    const val ASR_TEXT_TAG = "<asr_text>"
    private const val REPEAT_THRESHOLD = 20
    private const val MAX_PATTERN = 20
    /** The line boundaries of Python's str.splitlines() (\r\n gives an extra empty line, which is harmless here). */
    private val LINE_BREAKS = charArrayOf('\n', '\r', '\u000B', '\u000C', '\u001C', '\u001D', '\u001E', '\u0085', '\u2028', '\u2029')

    fun parse(raw: String, forcedLanguage: String? = null): AsrText {
        var s = strip(raw)
        if (s.isEmpty()) return AsrText("", "")
        s = fixRepetitions(s)
        if (forcedLanguage != null) return AsrText(forcedLanguage, s)
        val tag = s.indexOf(ASR_TEXT_TAG)
        if (tag < 0) return AsrText("", strip(s))
        val header = s.substring(0, tag)
        val text = strip(s.substring(tag + ASR_TEXT_TAG.length))
        if ("language none" in lowerCase(header)) return AsrText("", text)
        for (rawLine in header.split(*LINE_BREAKS)) {
            val line = strip(rawLine)
            if (lowerCase(line).startsWith("language ")) {
                val value = strip(line.substring("language ".length))
                val name = if (value.isEmpty()) "" else upperCase(value.substring(0, 1)) + lowerCase(value.substring(1))
                return AsrText(name, text)
            }
        }
        return AsrText("", text)
    }

    /** Comma list of the window languages, empty ones and consecutive duplicates dropped (official rule). */
    fun mergeLanguages(languages: List<String>): String {
        val merged = ArrayList<String>()
        for (language in languages) {
            if (language.isNotEmpty() && (merged.isEmpty() || merged[merged.size - 1] != language)) merged.add(language)
        }
        return merged.joinToString(",")
    }

    fun fixRepetitions(text: String): String = fromCodePoints(collapsePatterns(collapseCharRuns(codePoints(text))))

    private fun collapseCharRuns(text: IntArray): IntArray {
        val out = ArrayList<Int>(text.size)
        var i = 0
        while (i < text.size) {
            var j = i
            while (j < text.size && text[j] == text[i]) j++
            if (j - i > REPEAT_THRESHOLD) out.add(text[i]) else for (k in i until j) out.add(text[k])
            i = j
        }
        return out.toIntArray()
    }

    private fun collapsePatterns(input: IntArray): IntArray {
        var text = input
        val out = ArrayList<Int>()
        scan@ while (text.size >= 2 * REPEAT_THRESHOLD) {
            for (i in 0..text.size - 2 * REPEAT_THRESHOLD) {
                val k = (1..MAX_PATTERN).firstOrNull { i + it * REPEAT_THRESHOLD <= text.size && repeatsAt(text, i, it) } ?: continue
                var end = i + REPEAT_THRESHOLD * k
                while (end + k <= text.size && sameRange(text, end, i, k)) end += k
                for (p in 0 until i + k) out.add(text[p])
                text = text.copyOfRange(end, text.size)
                continue@scan
            }
            break
        }
        for (p in text) out.add(p)
        return out.toIntArray()
    }

    private fun repeatsAt(text: IntArray, i: Int, k: Int): Boolean =
        (1 until REPEAT_THRESHOLD).all { r -> sameRange(text, i + r * k, i, k) }

    /** text[a, a + k) == text[b, b + k), a range running past the end being shorter and so different. */
    private fun sameRange(text: IntArray, a: Int, b: Int, k: Int): Boolean {
        if (a + k > text.size || b + k > text.size) return false
        for (p in 0 until k) if (text[a + p] != text[b + p]) return false
        return true
    }

    private fun codePoints(text: String): IntArray {
        val points = ArrayList<Int>(text.length)
        var i = 0
        while (i < text.length) {
            val point = Character.codePointAt(text, i)
            points.add(point)
            i += Character.charCount(point)
        }
        return points.toIntArray()
    }

    private fun fromCodePoints(points: IntArray): String = String(points, 0, points.size)

    /** Python's str.strip(): Kotlin's whitespace (Unicode Zs/Zl/Zp and the ASCII controls) plus U+0085. */
    private fun strip(text: String): String = text.trim { it.isWhitespace() || it == '\u0085' }

    private fun lowerCase(text: String): String = mapCodePoints(text) { Character.toLowerCase(it) }

    private fun upperCase(text: String): String = mapCodePoints(text) { Character.toUpperCase(it) }

    private inline fun mapCodePoints(text: String, map: (Int) -> Int): String {
        val out = StringBuilder(text.length)
        for (point in codePoints(text)) out.appendCodePoint(map(point))
        return out.toString()
    }
}
