"""Graph fusions applied before weight quantization (never to fp32 exports, which stay as exported)."""
from __future__ import annotations

import logging

import numpy as np
import onnx
from onnx import helper, numpy_helper
from onnxruntime.transformers.optimizer import optimize_model

from .graph_edit import replace_nodes
from .head import MS_DOMAIN


def fuse_rms_norms(model: onnx.ModelProto) -> onnx.ModelProto:
    """RMSNorm (Pow, ReduceMean, Add, Sqrt, Reciprocal, Mul, Mul) -> SimplifiedLayerNormalization, and
    residual Add + RMSNorm -> SkipSimplifiedLayerNormalization (ONNX Runtime's transformer optimizer,
    graph-level fusions only). Fusing before quantization, not after, is what kept accuracy in a peer's
    measurements; it removes about 5 nodes per norm, which matters for one-token decode steps."""
    for name in ("onnxruntime.transformers", "fusion_base", "onnx_model", "fusion_utils"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # num_heads/hidden_size only matter for attention fusion, which does not match Qwen3's q/k-norm + RoPE.
    return optimize_model(model, model_type="gpt2", num_heads=0, hidden_size=0, opt_level=0).model


def _constant_ints(graph: onnx.GraphProto, name: str) -> list[int] | None:
    """The values of an int initializer or Constant output `name`, or None."""
    for tensor in graph.initializer:
        if tensor.name == name and not tensor.external_data:
            return numpy_helper.to_array(tensor).reshape(-1).tolist()
    for node in graph.node:
        if node.op_type == "Constant" and node.output[0] == name and node.attribute[0].type == onnx.AttributeProto.TENSOR:
            return numpy_helper.to_array(node.attribute[0].t).reshape(-1).tolist()
    return None


def _rotary_pattern(graph: onnx.GraphProto, add: onnx.NodeProto, producers: dict[str, onnx.NodeProto]):
    """(x, half, the Cos node, the pattern's nodes) if `add` = x*cos + cat(-x[..., half:], x[..., :half])*sin
    with cos and sin made by Cos and Sin nodes, else None."""
    def made_by(name: str, op: str) -> onnx.NodeProto | None:
        node = producers.get(name)
        return node if node is not None and node.op_type == op else None

    def split_mul(node: onnx.NodeProto | None, op: str) -> tuple[str, onnx.NodeProto] | None:
        """(the other operand, the Cos/Sin node) of a Mul by a Cos/Sin output."""
        if node is None or node.op_type != "Mul":
            return None
        for table, other in ((node.input[1], node.input[0]), (node.input[0], node.input[1])):
            if made_by(table, op):
                return other, producers[table]
        return None

    for first, second in ((add.input[0], add.input[1]), (add.input[1], add.input[0])):
        cos_mul, sin_mul = producers.get(first), producers.get(second)
        by_cos, by_sin = split_mul(cos_mul, "Cos"), split_mul(sin_mul, "Sin")
        if not (by_cos and by_sin):
            continue
        x, rotated = by_cos[0], made_by(by_sin[0], "Concat")
        if rotated is None or len(rotated.input) != 2:
            continue
        neg, low = made_by(rotated.input[0], "Neg"), made_by(rotated.input[1], "Slice")
        high = made_by(neg.input[0], "Slice") if neg else None
        if not (high and low and high.input[0] == x and low.input[0] == x and len(high.input) >= 4 and len(low.input) >= 4):
            continue
        high_from, high_to, high_axes = (_constant_ints(graph, n) for n in high.input[1:4])
        low_from, low_to, low_axes = (_constant_ints(graph, n) for n in low.input[1:4])
        steps = [_constant_ints(graph, n.input[4]) if len(n.input) > 4 else [1] for n in (high, low)]
        half = high_from[0] if high_from else None
        if (half and low_from == [0] and low_to == [half] and high_to and high_to[0] >= 2 * half
                and high_axes == low_axes and high_axes in ([-1], [3]) and steps == [[1], [1]]):
            return x, half, by_cos[1], [cos_mul, sin_mul, rotated, neg, high, low, add]
    return None


def fuse_rotary_embeddings(model: onnx.ModelProto, positions: str = "position_ids") -> onnx.ModelProto:
    """x*cos + rotate_half(x)*sin (7 nodes on the queries and again on the keys of every layer) -> one
    RotaryEmbedding (com.microsoft, non-interleaved halves: the same products and sums per element).

    Its tables are the cos/sin of the call's own angles, freqs [B, S, half] = position * inv_freq as the graph
    computes them, flattened to [B*S, half] rows that RotaryEmbedding indexes with 0..B*S-1; so any positions,
    per row of the batch, work as before. Graphs without the Cos/Sin of `positions` (the static NPU graphs feed
    rope_cos/sin) are returned unchanged. 0.6B int4: 1516 -> 1183 decoder nodes, a step 43.6 -> 39.2 ms."""
    graph = model.graph
    if positions not in {i.name for i in graph.input}:
        return model
    producers = {out: node for node in graph.node for out in node.output}
    matches = [m for node in graph.node if node.op_type == "Add" for m in [_rotary_pattern(graph, node, producers)] if m]
    if not matches or len({id(m[2]) for m in matches}) != 1 or len({m[1] for m in matches}) != 1:
        return model
    _, half, cos, _ = matches[0]
    angles = producers.get(cos.input[0])  # Unsqueeze(Concat(freqs, freqs)): [B, 1, S, 2 * half]
    both = producers.get(angles.input[0]) if angles is not None and angles.op_type == "Unsqueeze" else None
    if both is None or both.op_type != "Concat" or len(both.input) != 2 or both.input[0] != both.input[1]:
        return model
    freqs = both.input[0]
    prefix = "rotary/"
    graph.initializer.extend([numpy_helper.from_array(np.array(0, np.int64), prefix + "zero"),
                              numpy_helper.from_array(np.array(1, np.int64), prefix + "one"),
                              numpy_helper.from_array(np.array([-1, half], np.int64), prefix + "table_shape")])
    tables = [
        helper.make_node("Shape", [positions], [prefix + "shape"]),
        helper.make_node("Size", [positions], [prefix + "count"]),
        helper.make_node("Range", [prefix + "zero", prefix + "count", prefix + "one"], [prefix + "flat"]),
        helper.make_node("Reshape", [prefix + "flat", prefix + "shape"], [prefix + "table_index"]),
        helper.make_node("Reshape", [freqs, prefix + "table_shape"], [prefix + "freqs"]),
        helper.make_node("Cos", [prefix + "freqs"], [prefix + "cos"]),
        helper.make_node("Sin", [prefix + "freqs"], [prefix + "sin"]),
    ]
    replaced = {}
    for x, _, _, nodes in matches:
        add = nodes[-1]
        replaced[id(add)] = [helper.make_node(
            "RotaryEmbedding", [x, prefix + "table_index", prefix + "cos", prefix + "sin"], [add.output[0]],
            name=f"{add.name or add.output[0]}/rotary", domain=MS_DOMAIN, interleaved=0)]
    replaced[id(cos)] = tables + [cos]  # the tables' inputs exist where the old Cos ran
    return replace_nodes(model, [new for node in graph.node for new in replaced.get(id(node), [node])])
