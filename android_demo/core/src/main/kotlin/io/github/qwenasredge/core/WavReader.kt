// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge.core

import java.io.File
import java.nio.ByteBuffer
import java.nio.ByteOrder

/** Not a WAV file this app reads, with the reason. */
class WavFormatException(message: String) : RuntimeException(message)

/**
 * 16 kHz mono 16-bit PCM audio as the model's float samples: s / 32768 (the runtime's int16 rule).
 * [read] takes RIFF/WAVE files with a PCM (or extensible PCM) `fmt ` chunk and skips any other chunk;
 * other rates, channel counts or sample formats are refused (convert them first, e.g.
 * `ffmpeg -i in.m4a -ac 1 -ar 16000 -sample_fmt s16 out.wav`).
 */
object WavReader {
    const val SAMPLE_RATE = 16000
    private const val RIFF = 0x46464952  // "RIFF", little-endian
    private const val WAVE = 0x45564157
    private const val FMT = 0x20746d66
    private const val DATA = 0x61746164
    private const val FORMAT_PCM = 1
    private const val FORMAT_EXTENSIBLE = 0xFFFE

    fun read(file: File): FloatArray = parse(file.readBytes(), file.path)

    fun parse(bytes: ByteArray, name: String): FloatArray {
        val wav = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN)
        if (bytes.size < 12 || wav.getInt(0) != RIFF || wav.getInt(8) != WAVE) throw WavFormatException("$name: not a RIFF/WAVE file")
        var position = 12
        var formatChecked = false
        while (position + 8 <= bytes.size) {
            val id = wav.getInt(position)
            val size = wav.getInt(position + 4)
            val body = position + 8
            if (size < 0 || body + size < body) throw WavFormatException("$name: corrupt chunk size")
            when (id) {
                FMT -> {
                    checkFormat(wav, body, size, name)
                    formatChecked = true
                }
                DATA -> {
                    if (!formatChecked) throw WavFormatException("$name: data before the fmt chunk")
                    val available = minOf(size, bytes.size - body)  // a truncated file keeps what it has
                    return FloatArray(available / 2) { wav.getShort(body + 2 * it) / 32768f }
                }
            }
            position = body + size + (size and 1)
        }
        throw WavFormatException("$name: no data chunk")
    }

    /** samples[0, count) / 32768 as float (exact: a power-of-two scale), e.g. for AudioRecord buffers. */
    fun pcm16ToFloat(samples: ShortArray, count: Int): FloatArray = FloatArray(count) { samples[it] / 32768f }

    private fun checkFormat(wav: ByteBuffer, body: Int, size: Int, name: String) {
        if (size < 16) throw WavFormatException("$name: short fmt chunk")
        val format = wav.getShort(body).toInt() and 0xFFFF
        val channels = wav.getShort(body + 2).toInt()
        val rate = wav.getInt(body + 4)
        val bits = wav.getShort(body + 14).toInt()
        val pcm = format == FORMAT_PCM || (format == FORMAT_EXTENSIBLE && size >= 26 && wav.getShort(body + 24).toInt() == FORMAT_PCM)
        if (!pcm || bits != 16 || channels != 1 || rate != SAMPLE_RATE) {
            throw WavFormatException("$name: $channels channel(s), $rate Hz, $bits-bit format $format; " +
                "this app reads 16 kHz mono 16-bit PCM (convert with ffmpeg -ac 1 -ar 16000 -sample_fmt s16)")
        }
    }
}
