// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge.core

/** Malformed JSON, or a JSON value of the wrong kind where a manifest or tokenizer field was expected. */
class JsonException(message: String) : RuntimeException(message)

/**
 * A small JSON reader for manifest.json and tokenizer.json (no library on the desktop JVM, and the same
 * code on Android). Objects become `Map<String, Any?>` (key order kept), arrays `List<Any?>`, strings
 * `String`, integers without fraction or exponent `Long`, other numbers `Double`, `true`/`false`
 * `Boolean`, `null` null.
 */
object Json {
    fun parse(text: String): Any? {
        val reader = JsonReader(text)
        val value = reader.value()
        reader.end()
        return value
    }
}

private class JsonReader(private val text: String) {
    private var pos = 0

    fun value(): Any? {
        skipSpace()
        if (pos >= text.length) fail("unexpected end")
        return when (text[pos]) {
            '{' -> objectValue()
            '[' -> arrayValue()
            '"' -> stringValue()
            't' -> literal("true", true)
            'f' -> literal("false", false)
            'n' -> literal("null", null)
            else -> numberValue()
        }
    }

    fun end() {
        skipSpace()
        if (pos != text.length) fail("trailing characters")
    }

    private fun objectValue(): Map<String, Any?> {
        val result = LinkedHashMap<String, Any?>()
        pos++
        skipSpace()
        if (peek() == '}') {
            pos++
            return result
        }
        while (true) {
            skipSpace()
            if (peek() != '"') fail("expected a key")
            val key = stringValue()
            skipSpace()
            expect(':')
            result[key] = value()
            skipSpace()
            if (peek() == ',') {
                pos++
                continue
            }
            expect('}')
            return result
        }
    }

    private fun arrayValue(): List<Any?> {
        val result = ArrayList<Any?>()
        pos++
        skipSpace()
        if (peek() == ']') {
            pos++
            return result
        }
        while (true) {
            result.add(value())
            skipSpace()
            if (peek() == ',') {
                pos++
                continue
            }
            expect(']')
            return result
        }
    }

    private fun stringValue(): String {
        pos++
        val start = pos
        while (pos < text.length && text[pos] != '"' && text[pos] != '\\') pos++
        if (pos < text.length && text[pos] == '"') return text.substring(start, pos++)  // no escapes: the common case
        val out = StringBuilder().append(text, start, pos)
        while (true) {
            if (pos >= text.length) fail("unterminated string")
            val c = text[pos++]
            when (c) {
                '"' -> return out.toString()
                '\\' -> out.append(escaped())
                else -> out.append(c)
            }
        }
    }

    private fun escaped(): Char {
        if (pos >= text.length) fail("unterminated escape")
        return when (val c = text[pos++]) {
            '"', '\\', '/' -> c
            'b' -> '\b'
            'f' -> '\u000C'
            'n' -> '\n'
            'r' -> '\r'
            't' -> '\t'
            'u' -> {
                if (pos + 4 > text.length) fail("short \\u escape")
                val code = text.substring(pos, pos + 4).toIntOrNull(16) ?: fail("bad \\u escape")
                pos += 4
                code.toChar()
            }
            else -> fail("bad escape \\$c")
        }
    }

    private fun numberValue(): Any {
        val start = pos
        var integral = true
        while (pos < text.length && text[pos] in "+-0123456789.eE") {
            if (text[pos] in ".eE") integral = false
            pos++
        }
        val token = text.substring(start, pos)
        val number: Any? = if (integral) token.toLongOrNull() else token.toDoubleOrNull()
        return number ?: fail("bad value '$token'")
    }

    private fun literal(word: String, value: Any?): Any? {
        if (!text.startsWith(word, pos)) fail("bad literal")
        pos += word.length
        return value
    }

    private fun skipSpace() {
        while (pos < text.length && (text[pos] == ' ' || text[pos] == '\n' || text[pos] == '\r' || text[pos] == '\t')) pos++
    }

    private fun peek(): Char = if (pos < text.length) text[pos] else '\u0000'

    private fun expect(c: Char) {
        if (peek() != c) fail("expected '$c'")
        pos++
    }

    private fun fail(message: String): Nothing = throw JsonException("JSON: $message at offset $pos")
}

/** Typed access to a parsed JSON object; `where` names the document in error messages. */
class JsonObject(val map: Map<String, Any?>, private val where: String) {
    fun has(key: String): Boolean = map[key] != null

    fun obj(key: String): JsonObject {
        val value = map[key] as? Map<*, *> ?: missing(key, "an object")
        @Suppress("UNCHECKED_CAST")
        return JsonObject(value as Map<String, Any?>, "$where.$key")
    }

    fun string(key: String): String = map[key] as? String ?: missing(key, "a string")

    fun stringOrNull(key: String): String? = map[key] as? String

    fun long(key: String): Long = map[key] as? Long ?: missing(key, "an integer")

    fun int(key: String): Int {
        val value = long(key)
        if (value < Int.MIN_VALUE || value > Int.MAX_VALUE) missing(key, "a 32-bit integer")
        return value.toInt()
    }

    fun boolean(key: String): Boolean = map[key] as? Boolean ?: missing(key, "true or false")

    fun list(key: String): List<Any?> = map[key] as? List<*> ?: missing(key, "an array")

    private fun missing(key: String, kind: String): Nothing = throw JsonException("$where.$key: expected $kind, got ${map[key]}")

    companion object {
        /** The top-level object of a JSON document. */
        fun parse(text: String, where: String): JsonObject {
            val value = Json.parse(text) as? Map<*, *> ?: throw JsonException("$where: not a JSON object")
            @Suppress("UNCHECKED_CAST")
            return JsonObject(value as Map<String, Any?>, where)
        }
    }
}
