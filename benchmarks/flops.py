"""The compute floor: floating-point operations of the compute-bound stages and this machine's GEMM speed.

Encoder, prefill and the aligner's forward pass are matrix products over many tokens, so no engine can run
them faster than (their multiply-adds x 2) / (the fastest matrix product this CPU does). Counts follow the
official algorithm on a checkpoint's config (multiplications by weights and attention products; norms,
activations and softmax are left out, so the floor is a little low):
  - conv stem, per 1 s chunk of 100 mel frames (zero-padded like the official code): three 3x3 stride-2
    convolutions (1 -> C -> C -> C channels), then a linear C * F' -> d on each of its 13 frames;
  - audio transformer, per token: 2 (4 d^2 + 2 d f) per layer, attention 4 w d per layer within windows of
    w <= 104 tokens, and the two output projections d -> d -> out;
  - text decoder (causal), per prompt token: 2 (H q + 2 H k + q H + 3 H I) per layer with q = heads x hd,
    k = kv heads x hd, attention 2 q (i + 1) per layer for the i-th token; the output head only where it is
    read (the last position of an ASR prompt, the two slots per word of an aligner prompt).
The speed is ONNX Runtime's on this machine at the text decoder's MLP shape, the fastest of: float32 MatMul
(MLAS), int4 MatMulNBits with int8 compute (accuracy level 4), and the w8a8 MatMul as quantize/dynamic.py
writes it (per-token int8 activations, u8 x s8 GEMM: 1.45-1.75x float32 on AVX2 without VNNI here).
"""
from __future__ import annotations

import numpy as np

from qwen_asr_edge.encoder import CHUNK_FRAMES, CHUNK_TOKENS, tokens_for_frames

from .timing import fastest_seconds

FRAMES_PER_SECOND = 100


def _conv_out(size: int) -> int:
    return (size - 1) // 2 + 1  # kernel 3, stride 2, padding 1


def audio_tokens(seconds: float) -> int:
    """Encoder output length for `seconds` of audio."""
    return tokens_for_frames(round(seconds * FRAMES_PER_SECOND))


def encoder_flops(audio, seconds: float) -> float:
    """Conv stem and audio transformer on `seconds` of audio (`audio`: export.config.AudioConfig)."""
    frames = round(seconds * FRAMES_PER_SECOND)
    chunks = -(-frames // CHUNK_FRAMES)
    c, d = audio.downsample_hidden_size, audio.d_model
    f1, t1 = _conv_out(audio.num_mel_bins), _conv_out(CHUNK_FRAMES)
    f2, t2 = _conv_out(f1), _conv_out(t1)
    f3, t3 = _conv_out(f2), _conv_out(t2)
    per_chunk = 2 * 9 * (c * f1 * t1 + c * c * f2 * t2 + c * c * f3 * t3) + 2 * c * f3 * d * t3
    tokens = audio_tokens(seconds)
    window = CHUNK_TOKENS * (audio.n_window_infer // CHUNK_FRAMES)
    full, rest = divmod(tokens, window)
    per_layer = tokens * 2 * (4 * d * d + 2 * d * audio.encoder_ffn_dim) + 4 * d * (full * window ** 2 + rest ** 2)
    return chunks * per_chunk + audio.encoder_layers * per_layer + tokens * 2 * (d * d + d * audio.output_dim)


def decoder_flops(text, tokens: int, head_rows: int, head_width: int) -> float:
    """Causal text decoder on a prompt of `tokens` (`text`: export.config.TextConfig), and its output head
    [hidden -> head_width] on `head_rows` positions."""
    h, q, k = text.hidden_size, text.num_attention_heads * text.head_dim, text.num_key_value_heads * text.head_dim
    weights = 2 * (h * q + 2 * h * k + q * h + 3 * h * text.intermediate_size) * tokens
    attention = 2 * q * tokens * (tokens + 1)  # QK^T and AV over i + 1 keys for the i-th token, summed
    return text.num_hidden_layers * (weights + attention) + 2 * h * head_width * head_rows


def gemm_gflops(threads: int, rows: int = 512, hidden: int = 1024, inner: int = 3072, rounds: int = 5) -> dict:
    """GFLOP/s of ONNX Runtime's float32 MatMul, int4 MatMulNBits (accuracy level 4) and our w8a8 MatMul on
    [rows, hidden] x [hidden, inner], best of `rounds` each, and the fastest: {"fp32", "int4", "w8a8", "best"}."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    from qwen_asr_edge.quantize.dynamic import quantize_matmuls_w8a8

    rng = np.random.default_rng(0)
    block = 64
    nodes = {
        "fp32": (helper.make_node("MatMul", ["A", "W"], ["Y"]),
                 [numpy_helper.from_array(rng.standard_normal((hidden, inner), dtype=np.float32), "W")]),
        "int4": (helper.make_node("MatMulNBits", ["A", "B", "S"], ["Y"], domain="com.microsoft", K=hidden, N=inner,
                                  bits=4, block_size=block, accuracy_level=4),
                 [numpy_helper.from_array(rng.integers(0, 256, (inner, hidden // block, block // 2), dtype=np.uint8), "B"),
                  numpy_helper.from_array(rng.random((inner, hidden // block), dtype=np.float32) / 64, "S")]),
    }
    nodes["w8a8"] = nodes["fp32"]  # quantized below by the models' own pass
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    a = rng.standard_normal((rows, hidden), dtype=np.float32)
    result = {}
    for name, (node, weights) in nodes.items():
        graph = helper.make_graph([node], name, [helper.make_tensor_value_info("A", TensorProto.FLOAT, [rows, hidden])],
                                  [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [rows, inner])], weights)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
        if name == "w8a8":
            model = quantize_matmuls_w8a8(model)
        session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        session.run(None, {"A": a})
        best = fastest_seconds(lambda: session.run(None, {"A": a}), rounds)
        result[name] = 2 * rows * hidden * inner / best / 1e9
    result["best"] = max(result.values())
    return result
