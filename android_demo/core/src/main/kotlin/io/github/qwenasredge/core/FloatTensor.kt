// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge.core

/** A float32 tensor: row-major data and its shape (what passes between the drivers and the graphs). */
class FloatTensor(val data: FloatArray, val shape: IntArray) {
    init {
        var size = 1L
        for (d in shape) size *= d
        require(size == data.size.toLong()) { "tensor of shape ${shape.contentToString()} needs $size values, got ${data.size}" }
    }

    fun dim(axis: Int): Int = shape[axis]
}
