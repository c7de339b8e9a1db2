// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge.core

/**
 * GPT-2's byte-level alphabet, which Qwen's BPE vocabulary is written in: every byte is one printable
 * character. Bytes 33..126, 161..172 and 174..255 stand for themselves; the other 68 bytes (controls,
 * space, 127..160, 173) become U+0100, U+0101, ... in byte order (so the space 0x20 is 'Ġ', U+0120).
 */
object ByteLevelAlphabet {
    private val charOfByte = CharArray(256)
    private val byteOfChar = HashMap<Char, Int>(512)

    init {
        var next = 256
        for (b in 0 until 256) {
            val printable = b in 33..126 || b in 161..172 || b in 174..255
            val c = (if (printable) b else next++).toChar()
            charOfByte[b] = c
            byteOfChar[c] = b
        }
    }

    /** The alphabet character of a byte (0..255). */
    fun charOf(byte: Int): Char = charOfByte[byte and 0xFF]

    /** The byte an alphabet character stands for, or -1 for a character outside the alphabet. */
    fun byteOf(c: Char): Int = byteOfChar[c] ?: -1
}
