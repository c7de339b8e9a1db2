"""The tied output head: one copy of the token table serves the host-side lookup and the decoder's head.

The exported decoder graph ends at `last_hidden` [batch, H]; `attach_head` appends the head reading the
table file through ONNX external data (offset = the .npy header), see runtime/embedding.py for the layouts.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from numpy.lib import format as npy_format
from onnx import TensorProto, helper

from qwen_asr_edge.embedding import INT8_ZERO_POINT
from qwen_asr_edge.errors import InputError

HEAD_NODE = "lm_head"
HIDDEN = "last_hidden"
LOGITS = "logits"
MS_DOMAIN = "com.microsoft"


def quantize_table(table: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 blocks of `block` columns: scale = max|w| / 127, q = round(w / scale), stored q + 128."""
    rows, cols = table.shape
    blocks = np.asarray(table, dtype=np.float32).reshape(rows, cols // block, block)
    scales = np.abs(blocks).max(axis=-1) / 127.0
    scales[scales == 0] = 1.0
    q = np.clip(np.rint(blocks / scales[..., None]), -127, 127)
    return (q + INT8_ZERO_POINT).astype(np.uint8).reshape(rows, cols), scales.astype(np.float32)


def fitting_block(width: int, block: int) -> int:
    """The largest power of two <= `block` that divides `width` (MatMulNBits needs a power of two >= 16)."""
    while block >= 16 and width % block:
        block //= 2
    if block < 16:
        raise InputError(f"int8 table: hidden size {width} is not a multiple of 16")
    return block


def write_table(work: Path, table: np.ndarray, block: int | None) -> dict:
    """Save the table (float32, or int8 blocks of `block` columns, shrunk to fit the width); returns the
    manifest section."""
    if block is None:
        np.save(work / "embed_tokens.npy", np.asarray(table, dtype=np.float32), allow_pickle=False)
        return {"file": "embed_tokens.npy", "precision": "fp32"}
    block = fitting_block(table.shape[1], block)
    weights, scales = quantize_table(table, block)
    np.save(work / "embed_tokens.q8.npy", weights, allow_pickle=False)
    np.save(work / "embed_tokens.scales.npy", scales, allow_pickle=False)
    return {"file": "embed_tokens.q8.npy", "scales": "embed_tokens.scales.npy", "precision": f"int8:{block}"}


def _npy_tensor(name: str, work: Path, file: str, data_type: int, dims: list[int]) -> TensorProto:
    """An initializer whose data is the array inside `work/file` (external data past the .npy header)."""
    with open(work / file, "rb") as handle:
        read_header = {(1, 0): npy_format.read_array_header_1_0, (2, 0): npy_format.read_array_header_2_0}
        read_header[npy_format.read_magic(handle)](handle)
        offset = handle.tell()
    tensor = TensorProto(name=name, data_type=data_type, dims=dims, data_location=TensorProto.EXTERNAL)
    length = (work / file).stat().st_size - offset
    for key, value in (("location", file), ("offset", str(offset)), ("length", str(length))):
        tensor.external_data.add(key=key, value=value)
    return tensor


def _set_output(graph: onnx.GraphProto, old: str, new: str, width: int) -> None:
    """Replace graph output `old` [batch, *] by `new` [batch, width] float, keeping its position."""
    index = [o.name for o in graph.output].index(old)
    batch = graph.output[index].type.tensor_type.shape.dim[0]
    info = helper.make_tensor_value_info(new, TensorProto.FLOAT, [batch.dim_param or batch.dim_value or None, width])
    graph.output.remove(graph.output[index])
    graph.output.insert(index, info)


def attach_head(model: onnx.ModelProto, work: Path, section: dict, vocab: int, hidden: int) -> None:
    """Append the head `last_hidden` -> `logits` [batch, V] reading the table named in `section`."""
    graph = model.graph
    if section.get("scales"):
        block = int(section["precision"].split(":")[1])
        weight = _npy_tensor("lm_head.weight", work, section["file"], TensorProto.UINT8, [vocab, hidden // block, block])
        scales = _npy_tensor("lm_head.scales", work, section["scales"], TensorProto.FLOAT, [vocab * (hidden // block)])
        node = helper.make_node("MatMulNBits", [HIDDEN, weight.name, scales.name], [LOGITS], name=HEAD_NODE,
                                domain=MS_DOMAIN, K=hidden, N=vocab, bits=8, block_size=block, accuracy_level=4)
        graph.initializer.extend([weight, scales])
        if not any(op.domain == MS_DOMAIN for op in model.opset_import):
            model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    else:
        weight = _npy_tensor("lm_head.weight", work, section["file"], TensorProto.FLOAT, [vocab, hidden])
        node = helper.make_node("Gemm", [HIDDEN, weight.name], [LOGITS], name=HEAD_NODE, transB=1)
        graph.initializer.append(weight)
    graph.node.append(node)
    _set_output(graph, HIDDEN, LOGITS, vocab)


def detach_head(model: onnx.ModelProto, hidden: int) -> None:
    """Undo `attach_head`: the graph ends at `last_hidden` again."""
    graph = model.graph
    node = next(n for n in graph.node if n.name == HEAD_NODE)
    head_inputs = set(node.input[1:])
    graph.node.remove(node)
    for init in [i for i in graph.initializer if i.name in head_inputs]:
        graph.initializer.remove(init)
    _set_output(graph, LOGITS, HIDDEN, hidden)
