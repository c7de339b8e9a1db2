"""Finishing a graph rewrite: new node list, the com.microsoft opset, nothing left dangling."""
from __future__ import annotations

import onnx
from onnx import helper

from .head import MS_DOMAIN


def replace_nodes(model: onnx.ModelProto, nodes: list[onnx.NodeProto]) -> onnx.ModelProto:
    """`model` with `nodes` (in order) as its graph, the com.microsoft opset declared, and dead nodes and
    unread initializers removed."""
    graph = model.graph
    del graph.node[:]
    graph.node.extend(nodes)
    if not any(opset.domain == MS_DOMAIN for opset in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    drop_dead_nodes(graph)
    return model


def drop_dead_nodes(graph: onnx.GraphProto) -> None:
    """Remove the nodes none of whose outputs reach a graph output, then the initializers nothing reads."""
    needed = {out.name for out in graph.output}
    kept = []
    for node in reversed(graph.node):
        if any(out in needed for out in node.output):
            kept.append(node)
            needed.update(node.input)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    unused = [t for t in graph.initializer if t.name not in needed]
    for tensor in unused:
        graph.initializer.remove(tensor)
