"""The decode kernel floor: one decode step's weight products alone, through the kernels the decoder runs.

    python -m benchmarks.kernel_floor MODEL_DIR [--threads 2] [--rounds 20]

A one-token step reads every weight of the decoder once. The bandwidth bound of `benchmarks.speed` is what
that costs at the machine's measured read bandwidth; this is what it costs through ONNX Runtime's kernels:
every weight product of the model's `decoder.onnx` (MatMulNBits nodes, and MatMul / Gemm nodes by a weight
initializer) with the same weights and attributes, each fed a one-row activation [1, K] of its own, in one
session, nothing else of the step (attention, norms, host work). So decode time / this = the cost of the rest
of the step, and this / the bandwidth bound = how near the kernels come to the memory's speed.
Graphs whose products need more than the weight and its activation (w8a8: MatMulIntegerToFloat on activations
quantized by other nodes) have no floor here.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

from qwen_asr_edge.model_dir import DECODER, open_model_dir

from .timing import fastest_seconds

PRODUCTS = ("MatMulNBits", "MatMul", "Gemm")
ON_QUANTIZED_ACTIVATIONS = ("MatMulInteger", "MatMulIntegerToFloat")  # w8a8: quantize/dynamic.py


def _inner_size(node: onnx.NodeProto, weight: onnx.TensorProto) -> int:
    """K of a product [1, K] x weight: MatMulNBits says it; a Gemm with transB reads weight [N, K]."""
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    if node.op_type == "MatMulNBits":
        return int(attrs["K"])
    return int(weight.dims[1] if attrs.get("transB", 0) else weight.dims[0])


def weight_products(model: onnx.ModelProto) -> onnx.ModelProto | None:
    """A graph of `model`'s weight products only: inputs `x{K}` [1, K] (one per inner size), an output per
    product; initializers shared with `model` (external data stays external). None if a weight product
    takes activations quantized by other nodes (ON_QUANTIZED_ACTIVATIONS)."""
    graph = model.graph
    weights = {tensor.name: tensor for tensor in graph.initializer}
    if any(node.op_type in ON_QUANTIZED_ACTIVATIONS for node in graph.node):
        return None
    nodes, inputs, outputs, used = [], {}, [], set()
    for node in graph.node:
        if node.op_type not in PRODUCTS or len(node.input) < 2 or node.input[1] not in weights:
            continue
        inner = _inner_size(node, weights[node.input[1]])
        product = onnx.NodeProto()
        product.CopyFrom(node)
        product.input[0] = f"x{inner}"
        del product.output[:]
        product.output.append(f"y{len(nodes)}")
        nodes.append(product)
        inputs[inner] = helper.make_tensor_value_info(f"x{inner}", TensorProto.FLOAT, [1, inner])
        outputs.append(helper.make_tensor_value_info(product.output[0], TensorProto.FLOAT, None))
        used.update(name for name in node.input[1:] if name)
    initializers = [weights[name] for name in weights if name in used]
    products = helper.make_graph(nodes, "weight_products", list(inputs.values()), outputs, initializers)
    return helper.make_model(products, opset_imports=model.opset_import, ir_version=model.ir_version)


def product_session(model_dir: Path, threads: int) -> ort.InferenceSession | None:
    """A session on the weight products of `model_dir`'s decoder graph, reading its data files in place."""
    products = weight_products(onnx.load(str(open_model_dir(model_dir).graph(DECODER)), load_external_data=False))
    if products is None:
        return None
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.add_session_config_entry("session.model_external_initializers_file_folder_path", str(model_dir))
    return ort.InferenceSession(products.SerializeToString(), options, providers=["CPUExecutionProvider"])


def kernel_floor_ms(model_dir: Path, threads: int, rounds: int = 20) -> float | None:
    """Best of `rounds` runs of every weight product of one decode step, in ms; None without a floor."""
    session = product_session(model_dir, threads)
    if session is None:
        return None
    rng = np.random.default_rng(0)
    feeds = {i.name: rng.standard_normal(i.shape, dtype=np.float32) for i in session.get_inputs()}
    session.run(None, feeds)
    return fastest_seconds(lambda: session.run(None, feeds), rounds) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    floor = kernel_floor_ms(args.model_dir, args.threads, args.rounds)
    print("no kernel floor (products on quantized activations)" if floor is None
          else f"weight products of one decode step: {floor:.2f} ms")


if __name__ == "__main__":
    main()
