"""W8A8: MatMuls on int8 weights and int8 activations quantized per token at run time.

For y = x W with a constant W [K, N] and x [..., K]:
    s_x = max(max_k |x_k|, 1e-30) / 127                 one scale per token (row of x)
    q_x = round(x / s_x) + 128                          uint8, zero point 128 (symmetric)
    s_w[n] = max_k |W[k, n]| / 63                       one scale per output column
    q_w = round(W / s_w)                                int8 in [-63, 63]
    y = ((q_x - 128) @ q_w) * s_x * s_w                 MatMulIntegerToFloat (com.microsoft)
The integer product is exact on every CPU: x86 CPUs without VNNI multiply u8 x s8 pairs into saturating 16-bit
sums (vpmaddubsw), and 255 * 63 * 2 < 32767 keeps every pair exact (with 127 as the weight limit some sums
saturate, measured: errors of up to 17765 in the int32 result). That costs the weights one bit.

The point is speed where the work is compute-bound (encoder, prefill, the aligner's pass): on an AVX2 CPU
without VNNI this MatMul ran at 1.45-1.75x ONNX Runtime's float32 GEMM (docs/quantization.md). The cost is
accuracy: activations get 8 bits per token, where MatMulNBits at accuracy level 4 quantizes them per block of
32-64 channels, and weights 7 bits per column. MatMuls reading the same activation share one quantization
of it (q/k/v, gate/up).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import onnx
from onnx import helper, numpy_helper

from .graph_edit import replace_nodes
from .head import MS_DOMAIN

WEIGHT_LIMIT = 63  # 7 bits: no saturation in the u8 x s8 pair sums of AVX2 (see the module docstring)
ACTIVATION_LIMIT = 127
ZERO_POINT = 128


def quantize_weight(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(q_w int8 [K, N] in [-63, 63], s_w float32 [N]) with W ~= q_w * s_w."""
    scales = np.abs(weight).max(axis=0) / WEIGHT_LIMIT
    scales[scales == 0] = 1.0
    q = np.clip(np.rint(weight / scales), -WEIGHT_LIMIT, WEIGHT_LIMIT).astype(np.int8)
    return q, scales.astype(np.float32)


REDUCED_AXES = {"last_axis": [-1], "chunk_axes": [1, 2, 3]}  # per token (MatMuls), per chunk (conv_w8a8.py)


def activation_constants(graph: onnx.GraphProto) -> dict[str, str]:
    """The constants the activation quantization needs, added to the graph unless an earlier pass did (the ones a
    graph does not read are dropped again by replace_nodes)."""
    values = {"tiny": np.array(1e-30, np.float32), "limit": np.array(1.0 / ACTIVATION_LIMIT, np.float32),
              "zero_point": np.array(ZERO_POINT, np.uint8),
              **{key: np.array(axes, np.int64) for key, axes in REDUCED_AXES.items()}}
    present = {t.name for t in graph.initializer}
    names = {key: f"w8a8/{key}" for key in values}
    graph.initializer.extend(numpy_helper.from_array(value, names[key]) for key, value in values.items()
                             if names[key] not in present)
    return names


def zero_points_like(scale: str, name: str) -> list[onnx.NodeProto]:
    """Nodes making `name`: uint8 zero points (128) of the shape of the 1-D `scale`, for a per-axis QuantizeLinear."""
    return [helper.make_node("Shape", [scale], [name + "_shape"], name=name + "_shape"),
            helper.make_node("ConstantOfShape", [name + "_shape"], [name], name=name,
                             value=numpy_helper.from_array(np.array([ZERO_POINT], np.uint8)))]


def absmax_scale(x: str, p: str, axes: str, keepdims: int, c: dict[str, str],
                 opset: int) -> tuple[list[onnx.NodeProto], str]:
    """Nodes computing `p`scale = max(max |x| over REDUCED_AXES[axes], 1e-30) / 127. ReduceMax takes its axes as
    an input from opset 18 on, as an attribute before."""
    inputs = {"inputs": [p + "abs", c[axes]]} if opset >= 18 else {"inputs": [p + "abs"], "axes": REDUCED_AXES[axes]}
    nodes = [
        helper.make_node("Abs", [x], [p + "abs"], name=p + "Abs"),
        helper.make_node("ReduceMax", outputs=[p + "amax"], name=p + "ReduceMax", keepdims=keepdims, **inputs),
        helper.make_node("Max", [p + "amax", c["tiny"]], [p + "amax_floor"], name=p + "Max"),
        helper.make_node("Mul", [p + "amax_floor", c["limit"]], [p + "scale"], name=p + "Scale"),
    ]
    return nodes, p + "scale"


def _activation_nodes(x: str, c: dict[str, str], opset: int) -> tuple[list[onnx.NodeProto], str, str]:
    """Nodes computing (q_x uint8, s_x [..., 1]) from activation `x`. The rounding is one per-axis QuantizeLinear
    over the rows of x flattened to 2-D (round half to even, as Round; bit-identical to Div, Round, Add and Cast,
    and 3x faster on 145 rows of 1024)."""
    p = f"{x}/w8a8/"
    nodes, scale = absmax_scale(x, p, "last_axis", 1, c, opset)
    nodes += [
        helper.make_node("Flatten", [x], [p + "rows"], name=p + "Flatten", axis=-1),
        helper.make_node("Reshape", [scale, c["last_axis"]], [p + "row_scale"], name=p + "RowScale"),
        *zero_points_like(p + "row_scale", p + "zero_points"),
        helper.make_node("QuantizeLinear", [p + "rows", p + "row_scale", p + "zero_points"], [p + "q_rows"],
                         name=p + "QuantizeLinear", axis=0),
        helper.make_node("Shape", [x], [p + "shape"], name=p + "Shape"),
        helper.make_node("Reshape", [p + "q_rows", p + "shape"], [p + "q"], name=p + "Reshape"),
    ]
    return nodes, p + "q", scale


def quantize_matmuls_w8a8(model: onnx.ModelProto, exclude: Sequence[str] = (),
                          include: Sequence[str] | None = None) -> onnx.ModelProto:
    """Every MatMul with a constant 2-D weight (or only those named in `include`, none named in `exclude`) ->
    per-token activation quantization + MatMulIntegerToFloat, in place; returns `model`."""
    graph = model.graph
    weights = {t.name: t for t in graph.initializer}
    chosen = [n for n in graph.node if n.op_type == "MatMul" and n.input[1] in weights
              and len(weights[n.input[1]].dims) == 2 and n.name not in exclude
              and (include is None or n.name in include)]
    if not chosen:
        return model
    chosen_ids = {id(n) for n in chosen}
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    constants = activation_constants(graph)
    quantized: dict[str, tuple[str, str]] = {}
    nodes: list[onnx.NodeProto] = []
    for node in graph.node:
        if id(node) not in chosen_ids:
            nodes.append(node)
            continue
        x, w = node.input
        if x not in quantized:
            activation_nodes, q_x, s_x = _activation_nodes(x, constants, opset)
            nodes += activation_nodes
            quantized[x] = (q_x, s_x)
        q_x, s_x = quantized[x]
        q_w, s_w = quantize_weight(numpy_helper.to_array(weights[w]).astype(np.float32))
        graph.initializer.extend([numpy_helper.from_array(q_w, w + "/q8"), numpy_helper.from_array(s_w, w + "/scale")])
        inputs = [q_x, w + "/q8", s_x, w + "/scale", constants["zero_point"]]
        nodes.append(helper.make_node("MatMulIntegerToFloat", inputs, list(node.output), name=node.name or node.output[0],
                                      domain=MS_DOMAIN))
    return replace_nodes(model, nodes)
