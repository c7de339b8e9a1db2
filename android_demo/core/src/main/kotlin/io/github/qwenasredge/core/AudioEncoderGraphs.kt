// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
package io.github.qwenasredge.core

/**
 * The two audio-encoder graphs of an exported model (manifest `encoder_conv`, `encoder_transformer`); the
 * app implements them with ONNX Runtime, tests with fakes.
 */
interface AudioEncoderGraphs {
    /** encoder_conv: mel chunks `mel_chunks` [n, 128, F] -> chunk embeddings [n, ceil(F / 8), d]. */
    fun convChunks(chunks: FloatTensor): FloatTensor

    /** encoder_transformer: independent attention windows `windows` [n, L, d] -> audio embeddings [n, L, outputDim]. */
    fun attend(windows: FloatTensor): FloatTensor
}
