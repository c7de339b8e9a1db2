// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge.core

import java.io.File
import java.io.RandomAccessFile
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.channels.FileChannel

/**
 * A 2-D C-order `.npy` array (format 1.0, 2.0 or 3.0), memory-mapped read-only: a lookup touches only the
 * rows it reads. Holds the two dtypes the exporter writes for the token table: `<f4` (float32) and `|u1`
 * (uint8). The mapping stays valid after the file channel is closed.
 */
class NpyArray private constructor(val dtype: String, val rows: Int, val columns: Int, val data: ByteBuffer) {
    companion object {
        private val MAGIC = byteArrayOf(0x93.toByte(), 0x4E, 0x55, 0x4D, 0x50, 0x59)  // \x93NUMPY
        private val DESCR = Regex("""'descr'\s*:\s*'([^']*)'""")
        private val FORTRAN = Regex("""'fortran_order'\s*:\s*(True|False)""")
        private val SHAPE = Regex("""'shape'\s*:\s*\(\s*(\d+)\s*,\s*(\d+)\s*,?\s*\)""")

        fun open(file: File): NpyArray {
            RandomAccessFile(file, "r").use { raf ->
                val channel = raf.channel
                val head = channel.map(FileChannel.MapMode.READ_ONLY, 0, minOf(channel.size(), 16L)).order(ByteOrder.LITTLE_ENDIAN)
                val magic = ByteArray(6)
                if (head.limit() < 10) bad(file, "too short")
                head.get(magic)
                if (!magic.contentEquals(MAGIC)) bad(file, "not a .npy file")
                val major = head.get(6).toInt()
                val headerStart = if (major == 1) 10 else 12
                val headerLength = if (major == 1) head.getShort(8).toInt() and 0xFFFF else head.getInt(8)
                val headerBytes = ByteArray(headerLength)
                channel.map(FileChannel.MapMode.READ_ONLY, headerStart.toLong(), headerLength.toLong()).get(headerBytes)
                val header = String(headerBytes, Charsets.ISO_8859_1)
                val dtype = DESCR.find(header)?.groupValues?.get(1) ?: bad(file, "no dtype in header")
                if (FORTRAN.find(header)?.groupValues?.get(1) != "False") bad(file, "not C order")
                val shape = SHAPE.find(header) ?: bad(file, "not a 2-D array")
                val rows = shape.groupValues[1].toInt()
                val columns = shape.groupValues[2].toInt()
                val itemSize = when (dtype) {
                    "<f4" -> 4
                    "|u1" -> 1
                    else -> bad(file, "dtype $dtype (expected <f4 or |u1)")
                }
                val dataStart = (headerStart + headerLength).toLong()
                val dataBytes = rows.toLong() * columns * itemSize
                if (dataStart + dataBytes != channel.size()) bad(file, "size does not match its header (partial copy?)")
                val data = channel.map(FileChannel.MapMode.READ_ONLY, dataStart, dataBytes).order(ByteOrder.LITTLE_ENDIAN)
                return NpyArray(dtype, rows, columns, data)
            }
        }

        private fun bad(file: File, reason: String): Nothing = throw ModelDirException("$file: $reason")
    }
}
