"""benchmarks/kernel_floor.py: the graph of a decoder's weight products alone, against exact math."""
import numpy as np
import onnx
from onnx import numpy_helper

from benchmarks.kernel_floor import product_session, weight_products
from qwen_asr_edge.model_dir import DECODER, open_model_dir
from qwen_asr_edge.quantize.pipeline import quantize_model_dir

QUIET = dict(log=lambda msg: None)


def text_layers(model_dir) -> int:
    return open_model_dir(model_dir).manifest["model"]["num_layers"]


def test_fp32_products_are_the_decoders_weights_times_their_inputs(tiny_model):
    """Every product computes x @ W of one of the decoder's weights: q, k, v, o, gate, up, down per layer and the
    head (a Gemm by the transposed table)."""
    decoder = onnx.load(str(open_model_dir(tiny_model).graph(DECODER)))
    weights = {t.name: numpy_helper.to_array(t) for t in decoder.graph.initializer}
    products = weight_products(decoder)
    assert len(products.graph.node) == 7 * text_layers(tiny_model) + 1
    session = product_session(tiny_model, threads=1)
    rng = np.random.default_rng(0)
    feeds = {i.name: rng.standard_normal(i.shape, dtype=np.float32) for i in session.get_inputs()}
    outputs = session.run(None, feeds)
    for node, output in zip(products.graph.node, outputs, strict=True):
        weight = weights[node.input[1]]
        transposed = any(a.name == "transB" and a.i for a in node.attribute)
        expected = feeds[node.input[0]] @ (weight.T if transposed else weight)
        np.testing.assert_allclose(output, expected, rtol=1e-4, atol=1e-5)


def test_quantized_products_keep_the_kernels_and_w8a8_has_no_floor(tiny_model, tmp_path):
    int4 = quantize_model_dir(tiny_model, tmp_path / "int4", "int4", **QUIET)
    decoder = onnx.load(str(open_model_dir(int4).graph(DECODER)), load_external_data=False)
    products = weight_products(decoder)
    kernels = [n for n in decoder.graph.node if n.op_type == "MatMulNBits"]
    assert len(kernels) == 7 * text_layers(int4) + 1
    assert [(n.op_type, list(n.input[1:]), n.attribute) for n in products.graph.node] == \
        [(n.op_type, list(n.input[1:]), n.attribute) for n in kernels]
    assert product_session(int4, threads=1) is not None  # the head's table is read in place from the model dir
    w8a8 = quantize_model_dir(tiny_model, tmp_path / "w8a8", "w8a8", **QUIET)
    assert weight_products(onnx.load(str(open_model_dir(w8a8).graph(DECODER)), load_external_data=False)) is None
