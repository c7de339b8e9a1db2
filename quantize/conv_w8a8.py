"""W8A8 for the conv stem: each 2-D convolution as an int8 im2col and one MatMulIntegerToFloat.

For a Conv (group 1, dilation 1, more than one input channel) with constant weight W [Co, Ci, kh, kw] on
x [N, Ci, H, W]:
    s_x[n] = max(max |x[n]|, 1e-30) / 127               one scale per chunk (batch item), so a chunk's result
                                                         does not depend on the chunks batched with it
    q_x = QuantizeLinear(x, s_x, 128)                   uint8 per axis 0: round(x / s_x) + 128, in [1, 255]
    P = pad(q_x, 128) as NHWC                           128 is the quantized zero
    cols[n, i, j, (a, b, c)] = P[n, s_h i + a, s_w j + b, c]          im2col on bytes, 4x smaller than floats
    y = (cols - 128) @ q_w * s_x[n] * s_w + bias         as NCHW again
with q_w [kh kw Ci, Co], s_w [Co] the 7-bit per-column weights of quantize/dynamic.py (the same AVX2
saturation argument holds for the pair sums). The bias is added after MatMulIntegerToFloat, not given to it:
ONNX Runtime (1.32) multiplies its bias input by a non-scalar activation scale.

Per chunk and not per position because a position's scale would differ between the taps of one im2col row;
per-position scales need one product per tap (9 for 3x3), measured 2.4x slower than this (55 vs 23 ms for
4 chunks of the 0.6B stem's second conv) for an error of 2.0 % instead of 2.3 % of the output's rms on
random activations (docs/quantization.md has the measurements on the stem).
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from .dynamic import absmax_scale, activation_constants, quantize_weight, zero_points_like
from .graph_edit import replace_nodes
from .head import MS_DOMAIN


def _attributes(node: onnx.NodeProto) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _rewritable(node: onnx.NodeProto, weights: dict[str, onnx.TensorProto]) -> bool:
    if node.op_type != "Conv" or node.input[1] not in weights:
        return False
    dims = weights[node.input[1]].dims
    attrs = _attributes(node)
    return (len(dims) == 4 and dims[1] > 1 and attrs.get("group", 1) == 1
            and all(d == 1 for d in attrs.get("dilations", [1, 1]))
            and attrs.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET"))


class _ConvRewrite:
    def __init__(self, node: onnx.NodeProto, weight: np.ndarray, graph: onnx.GraphProto, opset: int, c: dict[str, str]):
        self.node, self.graph, self.opset, self.c = node, graph, opset, c
        self.prefix = f"{node.name or node.output[0]}/w8a8/"
        self.weight = weight
        self.nodes: list[onnx.NodeProto] = []

    def const(self, name: str, value: np.ndarray) -> str:
        full = self.prefix + name
        self.graph.initializer.append(numpy_helper.from_array(value, full))
        return full

    def add(self, op: str, inputs: list[str], name: str, domain: str = "", **attrs) -> str:
        out = self.prefix + name
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, domain=domain, **attrs))
        return out

    def build(self) -> list[onnx.NodeProto]:
        x = self.node.input[0]
        bias = self.node.input[2] if len(self.node.input) > 2 and self.node.input[2] else None
        attrs = _attributes(self.node)
        co, ci, kh, kw = self.weight.shape
        strides = attrs.get("strides", [1, 1])
        pads = attrs.get("pads", [0, 0, 0, 0])
        scale_nodes, scale = absmax_scale(x, self.prefix, "chunk_axes", 0, self.c, self.opset)  # s_x [N]
        self.nodes += scale_nodes
        zero_points = self.prefix + "zero_points"
        self.nodes += zero_points_like(scale, zero_points)
        q = self.add("QuantizeLinear", [x, scale, zero_points], "q", axis=0)
        pad_amounts = self.const("pads", np.array([0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]], np.int64))
        padded = self.add("Pad", [q, pad_amounts, self.c["zero_point"]], "padded", mode="constant")
        nhwc = self.add("Transpose", [padded], "nhwc", perm=[0, 2, 3, 1])
        # each tap's slice spans s * ((padded - k) // s) + 1 positions per spatial axis
        spatial = self.add("Slice", [self.add("Shape", [nhwc], "shape"), self.const("from", np.array([1], np.int64)),
                                     self.const("to", np.array([3], np.int64))], "spatial")
        step = self.const("strides", np.array(strides, np.int64))
        steps = self.add("Div", [self.add("Sub", [spatial, self.const("kernel", np.array([kh, kw], np.int64))], "room"),
                                 step], "steps")
        span = self.add("Add", [self.add("Mul", [steps, step], "stepped"), self.const("one", np.array([1, 1], np.int64))],
                        "span")
        axes = self.const("tap_axes", np.array([1, 2], np.int64))
        taps = []
        for a in range(kh):
            for b in range(kw):
                start = self.const(f"start_{a}{b}", np.array([a, b], np.int64))
                end = self.add("Add", [start, span], f"end_{a}{b}")
                taps.append(self.add("Slice", [nhwc, start, end, axes, step], f"tap_{a}{b}"))
        cols = self.add("Concat", taps, "cols", axis=3)
        q_w, s_w = quantize_weight(self.weight.transpose(2, 3, 1, 0).reshape(kh * kw * ci, co))
        row_scale = self.add("Reshape", [scale, self.const("row_shape", np.array([-1, 1, 1, 1], np.int64))], "row_scale")
        product = self.add("MatMulIntegerToFloat", [cols, self.const("q8", q_w), row_scale, self.const("weight_scale", s_w),
                                                    self.c["zero_point"]], "product", domain=MS_DOMAIN)
        if bias is not None:
            product = self.add("Add", [product, bias], "biased")
        self.nodes.append(helper.make_node("Transpose", [product], list(self.node.output), name=self.prefix + "nchw",
                                           perm=[0, 3, 1, 2]))
        return self.nodes


def quantize_convs_w8a8(model: onnx.ModelProto) -> onnx.ModelProto:
    """Every Conv with a constant 4-D weight, group 1, dilation 1 and more than one input channel -> the
    per-chunk int8 im2col product above, in place; returns `model`. Single-channel convolutions (the stem's
    first, on the mel) stay float: their cost is small and their input is the features themselves."""
    graph = model.graph
    weights = {t.name: t for t in graph.initializer}
    if not any(_rewritable(n, weights) for n in graph.node):
        return model
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    constants = activation_constants(graph)
    nodes: list[onnx.NodeProto] = []
    for node in list(graph.node):
        if not _rewritable(node, weights):
            nodes.append(node)
            continue
        weight = numpy_helper.to_array(weights[node.input[1]]).astype(np.float32)
        nodes += _ConvRewrite(node, weight, graph, opset, constants).build()
    return replace_nodes(model, nodes)
