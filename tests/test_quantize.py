"""Quantization: recipes, the shared int8 table/head against exact math, and the quantize/quant-report commands."""
import json
import shutil

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from qwen_asr_edge import Transcriber
from qwen_asr_edge.cli import main
from qwen_asr_edge.embedding import EmbeddingTable
from qwen_asr_edge.errors import InputError
from qwen_asr_edge.quantize.fusion import fuse_rotary_embeddings
from qwen_asr_edge.quantize.head import detach_head, quantize_table
from qwen_asr_edge.quantize.pipeline import quantize_model_dir
from qwen_asr_edge.quantize.recipe import Precision, make_recipe
from qwen_asr_edge.quantize.report import compare_file

from .fixtures import write_clip

QUIET = dict(log=lambda msg: None)


@pytest.fixture(scope="module")
def int8_model(tiny_model, tmp_path_factory):
    return quantize_model_dir(tiny_model, tmp_path_factory.mktemp("q") / "int8", "int8", **QUIET)


def test_recipes():
    assert str(make_recipe("int4")["decoder"]) == "int4:64" and str(make_recipe("int4")["embed"]) == "int8:64"
    recipe = make_recipe("int8", "decoder=int4:128, encoder_conv=int8:16")
    assert recipe["decoder"] == Precision(4, 128) and recipe["encoder_conv"] == Precision(8, 16)
    assert make_recipe("fp32")["embed"] == Precision(None)
    for bad in ("embed=int4:64", "decoder=int3:32", "decoder=int4:48", "head=int8", "decoder"):
        with pytest.raises(InputError):
            make_recipe("int8", bad)
    with pytest.raises(InputError):
        make_recipe("int2")


def test_int8_table_is_within_half_a_step_of_the_float_table():
    """Symmetric blocks: every element is within scale/2 of its float value, scale = max|block| / 127."""
    rng = np.random.default_rng(0)
    table = rng.standard_normal((50, 128)).astype(np.float32) * rng.uniform(0.01, 3, (50, 1)).astype(np.float32)
    table[7] = 0.0  # an all-zero row must not divide by zero
    weights, scales = quantize_table(table, 32)
    expected_scales = np.abs(table.reshape(50, 4, 32)).max(-1) / 127
    np.testing.assert_allclose(scales[expected_scales > 0], expected_scales[expected_scales > 0], rtol=1e-6)
    ids = np.array([[3, 7, 49], [0, 0, 12]])
    rows = EmbeddingTable(weights, scales)(ids)
    assert rows.shape == (2, 3, 128) and rows.dtype == np.float32
    step = np.repeat(scales, 32, axis=1)[ids]
    assert np.all(np.abs(rows - table[ids]) <= step / 2 * (1 + 1e-6))
    assert not rows[0, 1].any()


def _last_hidden_and_logits(model_dir, feeds):
    """(last_hidden from the decoder with its head cut off, logits from the whole decoder)."""
    model = onnx.load(str(model_dir / "decoder.onnx"), load_external_data=False)
    detach_head(model, feeds["inputs_embeds"].shape[-1])
    onnx.load_external_data_for_model(model, str(model_dir))
    headless = ort.InferenceSession(model.SerializeToString())
    whole = ort.InferenceSession(str(model_dir / "decoder.onnx"))
    return headless.run(None, feeds)[0], whole.run(None, feeds)[0]


def _prefill_feeds(model_dir, batch=3, seq=9):
    manifest = json.loads((model_dir / "manifest.json").read_text())
    m = manifest["model"]
    rng = np.random.default_rng(1)
    table = EmbeddingTable.load(model_dir, manifest["embed_tokens"])
    feeds = {"inputs_embeds": table(rng.integers(0, m["vocab_size"], (batch, seq))),
             "position_ids": np.tile(np.arange(seq), (batch, 1))}
    empty = np.zeros((1, m["num_kv_heads"], 0, m["head_dim"]), np.float32)
    for i in range(m["num_layers"]):
        for name in ("prefix", "past"):
            feeds[f"{name}.{i}.key"] = feeds[f"{name}.{i}.value"] = np.repeat(empty, batch if name == "past" else 1, 0)
    return feeds, table


def test_heads_read_the_shared_table(tiny_model, int8_model):
    """fp32: logits = h @ table.T exactly; int8: h @ dequantized(table).T up to the int8 rounding of h
    (accuracy level 4), with the same argmax. One copy of the table on disk in both."""
    for model_dir, tolerance in ((tiny_model, 1e-5), (int8_model, 2e-2)):
        manifest = json.loads((model_dir / "manifest.json").read_text())
        feeds, table = _prefill_feeds(model_dir)
        hidden, logits = _last_hidden_and_logits(model_dir, feeds)
        expected = hidden @ table(np.arange(table.shape[0])).T
        assert np.abs(logits - expected).max() <= tolerance * np.abs(expected).max()
        np.testing.assert_array_equal(logits.argmax(-1), expected.argmax(-1))
        table_bytes = (model_dir / manifest["embed_tokens"]["file"]).stat().st_size
        assert (model_dir / "decoder.onnx").stat().st_size < table_bytes / 4, "the head must not copy the table"
    int8_files = set(json.loads((int8_model / "manifest.json").read_text())["files"])
    assert {"embed_tokens.q8.npy", "embed_tokens.scales.npy"} <= int8_files and "embed_tokens.npy" not in int8_files


def test_big_graphs_keep_their_weights_in_a_data_file(tiny_model, int8_model, tmp_path, monkeypatch):
    """Past EXTERNAL_DATA_BYTES a graph the recipe rewrites keeps its weights in `<graph>.data` (listed in the
    manifest, readable like the graph), and the model gives the same embeddings, tokens and logits as the
    single-file one. (int8 leaves encoder_conv as exported.)"""
    import qwen_asr_edge.quantize.pipeline as pipeline

    monkeypatch.setattr(pipeline, "EXTERNAL_DATA_BYTES", 1024)
    split = quantize_model_dir(tiny_model, tmp_path / "int8", "int8", **QUIET)
    files = json.loads((split / "manifest.json").read_text())["files"]
    for graph in ("decoder.onnx", "encoder_transformer.onnx"):
        assert f"{graph}.data" in files
        inline = onnx.load(str(split / graph), load_external_data=False).graph.initializer
        assert max(len(t.raw_data) for t in inline) <= 1024  # every bigger weight is in the data file
        assert (split / f"{graph}.data").stat().st_mode & 0o777 == (split / graph).stat().st_mode & 0o777
        assert f"{graph}.data" not in json.loads((int8_model / "manifest.json").read_text())["files"]
    from qwen_asr_edge.audio import load_audio
    from qwen_asr_edge.features import log_mel_spectrogram

    audio = load_audio(write_clip(tmp_path / "clip.wav", 3.0, seed=7))
    mel = log_mel_spectrogram(audio)
    ours, single = Transcriber(split), Transcriber(int8_model)
    np.testing.assert_array_equal(ours.encoder(mel), single.encoder(mel))
    a, b = (asr.generate(audio, keep_logits=True) for asr in (ours, single))
    assert a.tokens == b.tokens
    np.testing.assert_array_equal(np.stack(a.logits), np.stack(b.logits))


def test_export_quant_equals_quantize_of_the_fp32_export(tiny_model, int8_model, tmp_path):
    """`export --quant int8` and `quantize` of the fp32 export run the same passes: same files, same bytes."""
    from qwen_asr_edge.export import export_checkpoint

    direct = export_checkpoint(tiny_model.parent / "ckpt", tmp_path / "direct", quant="int8", **QUIET)
    ours, theirs = (json.loads((d / "manifest.json").read_text()) for d in (direct, int8_model))
    assert ours["quantization"] == theirs["quantization"] == {"recipe": "int8", **{k: str(v) for k, v in make_recipe("int8").items()}}
    assert ours["files"] == theirs["files"]


def test_quantize_refuses_bad_sources(tiny_model, int8_model, tmp_path, capsys):
    with pytest.raises(InputError, match="already quantized"):
        quantize_model_dir(int8_model, tmp_path / "again", "int4", **QUIET)
    assert main(["quantize", str(tiny_model.parent / "ckpt"), str(tmp_path / "x")]) == 2
    assert "Hugging Face checkpoint" in capsys.readouterr().err


def test_quant_report(tiny_model, int8_model, tmp_path, capsys):
    """int8 against fp32: each quantized graph's error is small but not zero; the conv stem (kept fp32) is exact
    up to the order of float sums."""
    clips = [write_clip(tmp_path / f"c{i}.wav", seconds, seed=i) for i, seconds in enumerate((1.4, 9.2))]
    assert main(["quant-report", str(tiny_model), str(int8_model), *map(str, clips), str(tmp_path / "missing.wav"), "--json"]) == 2
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert [r["file"] for r in rows] == [*map(str, clips), "mean"]
    assert "missing.wav" in captured.err
    for row in rows:
        assert row["encoder_conv_rel_err"] < 1e-5
        assert 0 < row["encoder_transformer_rel_err"] < 0.05
        assert 0 < row["prefill_logits_rel_err"] < 0.1
        assert 0 <= row["token_agreement"] <= 1 and row["wer"] >= 0


def test_qdq_is_calibrated_on_real_inputs_and_tracks_fp32(tiny_model, tmp_path):
    """a16w8 QDQ (for NPUs): Q/DQ pairs around the weight ops only, outputs close to fp32 on unseen clips."""
    with pytest.raises(InputError, match="calibration"):
        quantize_model_dir(tiny_model, tmp_path / "none", "qdq", **QUIET)
    calibration = [str(write_clip(tmp_path / f"cal{i}.wav", 1.5 + i, seed=20 + i)) for i in range(4)]
    qdq = quantize_model_dir(tiny_model, tmp_path / "qdq", "qdq", calibration=calibration, **QUIET)
    manifest = json.loads((qdq / "manifest.json").read_text())
    assert manifest["quantization"]["recipe"] == "qdq" and manifest["quantization"]["calibration_files"] == 4
    decoder = onnx.load(str(qdq / "decoder.onnx"), load_external_data=False)
    quantized_inputs = {n.output[0] for n in decoder.graph.node if n.op_type == "DequantizeLinear"}
    matmuls = [n for n in decoder.graph.node if n.op_type in ("MatMul", "Gemm")]
    assert matmuls and all(n.input[0] in quantized_inputs and n.input[1] in quantized_inputs for n in matmuls)
    assert not any(n.op_type in ("Softmax", "Where") and n.input[0] in quantized_inputs for n in decoder.graph.node)
    fp32, quant = Transcriber(tiny_model), Transcriber(qdq)
    for i, seconds in enumerate((2.2, 6.5)):
        row = compare_file(fp32, quant, str(write_clip(tmp_path / f"test{i}.wav", seconds, seed=40 + i)))
        assert 0 < row["encoder_transformer_rel_err"] < 0.05
        assert 0 < row["prefill_logits_rel_err"] < 0.05


def _matmul_graph(weights: dict[str, np.ndarray], pairs: list[tuple[str, str, str]], k: int, opset: int) -> onnx.ModelProto:
    """x [2, S, k] -> MatMul nodes (input, weight, output) with constant weights, every output a graph output."""
    from onnx import TensorProto, helper, numpy_helper
    nodes = [helper.make_node("MatMul", [x, w], [y], name=f"mm_{y}") for x, w, y in pairs]
    nodes.insert(0, helper.make_node("Relu", ["x"], ["h"], name="relu"))
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, "S", k])],
                              [helper.make_tensor_value_info(y, TensorProto.FLOAT, None) for _, _, y in pairs],
                              [numpy_helper.from_array(w, name) for name, w in weights.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _w8a8_reference(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """quantize/dynamic.py's formula in numpy, the integer product in int64."""
    s_x = np.maximum(np.abs(x).max(-1, keepdims=True), np.float32(1e-30)) * np.float32(1 / 127)
    q_x = np.rint(x / s_x).astype(np.int64)
    s_w = (np.abs(w).max(0) / 63).astype(np.float32)
    s_w[s_w == 0] = 1
    q_w = np.rint(w / s_w).astype(np.int64)
    return (q_x @ q_w).astype(np.float32) * s_x * s_w


@pytest.mark.parametrize("opset", [17, 18])  # ReduceMax's axes: an attribute before 18, an input from 18 on
def test_w8a8_matmuls_compute_the_integer_formula_exactly(opset):
    """Per-token activations and 7-bit per-column weights through MatMulIntegerToFloat equal the formula computed
    in int64 (so no u8 x s8 pair sum saturates), also at the extremes: rows whose every value quantizes to +-127
    against columns of +-63, an all-zero row, an outlier channel. Two MatMuls reading one input share its
    quantization; the float weights are gone."""
    from qwen_asr_edge.quantize.dynamic import quantize_matmuls_w8a8
    rng = np.random.default_rng(3)
    k = 256
    weights = {"wa": rng.standard_normal((k, 96)).astype(np.float32),
               "wb": np.sign(rng.standard_normal((k, 40))).astype(np.float32) * 0.5,  # every entry quantizes to +-63
               "wc": rng.standard_normal((k, 24)).astype(np.float32) * 0.01}
    weights["wa"][:, 5] = 0.0  # a zero column
    model = _matmul_graph(weights, [("x", "wa", "ya"), ("x", "wb", "yb"), ("h", "wc", "yc")], k, opset)
    quantized = quantize_matmuls_w8a8(model)
    ops = [n.op_type for n in quantized.graph.node]
    assert ops.count("MatMulIntegerToFloat") == 3 and "MatMul" not in ops and ops.count("Abs") == 2
    assert not {"wa", "wb", "wc"} & {t.name for t in quantized.graph.initializer}
    x = rng.standard_normal((2, 7, k)).astype(np.float32)
    x[0, 0] = np.where(rng.random(k) < 0.5, 3.0, -3.0)  # q_x = +-127 everywhere: the largest pair sums
    x[0, 1] = np.abs(x[0, 0])
    x[0, 2] = 0.0
    x[1, 3, 17] = 80.0  # an outlier channel
    session = ort.InferenceSession(quantized.SerializeToString(), providers=["CPUExecutionProvider"])
    outputs = dict(zip(("ya", "yb", "yc"), session.run(None, {"x": x})))
    for name, inp in (("ya", x), ("yb", x), ("yc", np.maximum(x, 0))):
        expected = _w8a8_reference(inp, weights["w" + name[1]])
        np.testing.assert_allclose(outputs[name], expected, rtol=1e-5, atol=1e-6 * np.abs(expected).max())
    assert not outputs["ya"][0, 2].any() and np.isfinite(outputs["ya"]).all()


def test_rotary_fusion_keeps_the_decoder_outputs(tiny_model, tmp_path):
    """RotaryEmbedding in place of x*cos + rotate_half(x)*sin on the queries and keys of every layer: the fp32
    decoder's logits and present K/V stay within float rounding, for a batch whose rows sit at different
    positions after a prefix and a past; the 7-node pattern is gone and nothing dangles."""
    fused_dir = shutil.copytree(tiny_model, tmp_path / "fused")
    model = onnx.load(str(tiny_model / "decoder.onnx"), load_external_data=False)
    before = len(model.graph.node)
    fused = fuse_rotary_embeddings(model)
    manifest = json.loads((tiny_model / "manifest.json").read_text())["model"]
    layers = manifest["num_layers"]
    ops = [n.op_type for n in fused.graph.node]
    assert ops.count("RotaryEmbedding") == 2 * layers and "Neg" not in ops
    assert len(ops) == before - 2 * layers * 6 + 3  # each 7-node pattern -> 1; Unsqueeze, Concat, Cos, Sin -> 7 for the tables
    onnx.save(fused, str(fused_dir / "decoder.onnx"))
    rng = np.random.default_rng(3)
    batch, seq, p0, p1 = 2, 3, 5, 4
    shape = (manifest["num_kv_heads"], manifest["head_dim"])
    feeds = {"inputs_embeds": rng.standard_normal((batch, seq, manifest["hidden_size"])).astype(np.float32),
             "position_ids": np.array([[9, 10, 11], [40, 41, 42]], np.int64)}
    for i in range(layers):
        for kind in ("key", "value"):
            feeds[f"prefix.{i}.{kind}"] = rng.standard_normal((1, shape[0], p0, shape[1])).astype(np.float32)
            feeds[f"past.{i}.{kind}"] = rng.standard_normal((batch, shape[0], p1, shape[1])).astype(np.float32)
    expected = ort.InferenceSession(str(tiny_model / "decoder.onnx")).run(None, feeds)
    got = ort.InferenceSession(str(fused_dir / "decoder.onnx")).run(None, feeds)
    for want, have in zip(expected, got):
        np.testing.assert_allclose(have, want, rtol=1e-4, atol=1e-5 * np.abs(want).max())
    # a graph whose RoPE angles do not come from that input (the static graphs feed rope_cos/sin) is left alone
    unfused = onnx.load(str(tiny_model / "decoder.onnx"), load_external_data=False)
    assert len(fuse_rotary_embeddings(unfused, positions="rope_cos").graph.node) == before


def test_w8a8_preset_transcribes_close_to_fp32(tiny_model, tmp_path):
    """The w8a8 preset: encoder and decoder MatMuls and the stem's multi-channel convolutions in W8A8, the head
    on the shared int8 table; each graph's error against fp32 is small but not zero."""
    recipe = make_recipe("w8a8")
    assert str(recipe["decoder"]) == "w8a8" and recipe["decoder"].dynamic and not make_recipe("int8")["decoder"].dynamic
    with pytest.raises(InputError):
        make_recipe("w8a8", "embed=w8a8")
    w8a8 = quantize_model_dir(tiny_model, tmp_path / "w8a8", "w8a8", **QUIET)
    decoder = onnx.load(str(w8a8 / "decoder.onnx"), load_external_data=False)
    ops = {n.op_type for n in decoder.graph.node}
    assert "MatMulIntegerToFloat" in ops and "MatMulNBits" in ops  # the layers, and the int8 head
    stem = [n.op_type for n in onnx.load(str(w8a8 / "encoder_conv.onnx")).graph.node]
    assert stem.count("Conv") == 1 and stem.count("MatMulIntegerToFloat") == 3  # 2 convs and the output projection
    fp32, quant = Transcriber(tiny_model), Transcriber(w8a8)
    for i, seconds in enumerate((2.2, 9.5)):
        row = compare_file(fp32, quant, str(write_clip(tmp_path / f"test{i}.wav", seconds, seed=60 + i)))
        assert 0 < row["encoder_conv_rel_err"] < 0.05
        assert 0 < row["encoder_transformer_rel_err"] < 0.05
        assert 0 < row["prefill_logits_rel_err"] < 0.1


def _conv_graph(convs: list[tuple[str, str, np.ndarray, np.ndarray, dict]], channels: int, opset: int) -> onnx.ModelProto:
    """x [N, channels, H, W] (H and W dynamic) -> Conv nodes (input, output, weight, bias, attributes)."""
    from onnx import TensorProto, helper, numpy_helper
    nodes, inits = [], []
    for x, y, w, b, attrs in convs:
        nodes.append(helper.make_node("Conv", [x, f"{y}_w", f"{y}_b"], [y], name=f"conv_{y}", **attrs))
        inits += [numpy_helper.from_array(w, f"{y}_w"), numpy_helper.from_array(b, f"{y}_b")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", channels, "H", "W"])],
                              [helper.make_tensor_value_info(y, TensorProto.FLOAT, None) for _, y, *_ in convs], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _conv_w8a8_reference(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: tuple[int, int],
                         pads: tuple[int, int, int, int]) -> np.ndarray:
    """quantize/conv_w8a8.py's formula in numpy: per-chunk activations, 7-bit per-output-channel weights, the
    integer convolution summed tap by tap in int64 (no im2col), then scaled."""
    s_x = np.maximum(np.abs(x).reshape(len(x), -1).max(1), np.float32(1e-30)) * np.float32(1 / 127)
    q_x = np.rint(x / s_x[:, None, None, None]).astype(np.int64)
    s_w = (np.abs(w).reshape(len(w), -1).max(1) / 63).astype(np.float32)
    q_w = np.rint(w / s_w[:, None, None, None]).astype(np.int64)
    padded = np.pad(q_x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    kh, kw = w.shape[2:]
    out_h = (padded.shape[2] - kh) // stride[0] + 1
    out_w = (padded.shape[3] - kw) // stride[1] + 1
    acc = np.zeros((len(x), len(w), out_h, out_w), np.int64)
    for a in range(kh):
        for c in range(kw):
            window = padded[:, :, a:a + stride[0] * (out_h - 1) + 1:stride[0], c:c + stride[1] * (out_w - 1) + 1:stride[1]]
            acc += np.einsum("nihw,oi->nohw", window, q_w[:, :, a, c])
    return (acc.astype(np.float32) * s_x[:, None, None, None] * s_w[None, :, None, None] + b[None, :, None, None])


@pytest.mark.parametrize("opset", [17, 20])  # ReduceMax's axes: an attribute before 18, an input from 18 on
def test_w8a8_convs_compute_the_integer_formula_exactly(opset):
    """Multi-channel Convs become int8 im2col products equal to the per-chunk formula computed tap by tap in
    int64, for the stem's 3x3 stride-2 pad-1 shape and a rectangular stride-1 unpadded one, on even and odd
    sizes, with a chunk at the extremes (every value +-127 against +-63 weights) and an all-zero chunk (the
    bias exactly); a chunk's result does not depend on what it is batched with; a single-channel Conv stays float."""
    from qwen_asr_edge.quantize.conv_w8a8 import quantize_convs_w8a8
    rng = np.random.default_rng(5)
    ci, co = 12, 7
    stem = dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    w1 = rng.standard_normal((co, ci, 3, 3)).astype(np.float32)
    w1[0] = np.sign(rng.standard_normal((ci, 3, 3))) * 0.25  # every entry quantizes to +-63
    w2 = rng.standard_normal((5, ci, 3, 2)).astype(np.float32) * 0.1
    w3 = rng.standard_normal((4, 1, 3, 3)).astype(np.float32)
    biases = [rng.standard_normal(n).astype(np.float32) for n in (co, 5, 4)]
    model = _conv_graph([("x", "y1", w1, biases[0], stem), ("x", "y2", w2, biases[1], dict(kernel_shape=[3, 2])),
                         ("x1", "y3", w3, biases[2], stem)], ci, opset)
    model.graph.node.insert(0, onnx.helper.make_node("Slice", ["x", "from", "to", "axis"], ["x1"], name="first_channel"))
    model.graph.initializer.extend(onnx.numpy_helper.from_array(np.array([v], np.int64), n)
                                   for n, v in (("from", 0), ("to", 1), ("axis", 1)))
    quantized = quantize_convs_w8a8(model)
    ops = [n.op_type for n in quantized.graph.node]
    assert ops.count("MatMulIntegerToFloat") == 2 and ops.count("Conv") == 1
    session = ort.InferenceSession(quantized.SerializeToString(), providers=["CPUExecutionProvider"])
    float_session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    for h, w in ((16, 10), (15, 9)):
        x = rng.standard_normal((4, ci, h, w)).astype(np.float32)
        x[1] = np.where(rng.random((ci, h, w)) < 0.5, 2.0, -2.0)  # q_x = +-127 everywhere
        x[2] = 0.0
        y1, y2, y3 = session.run(None, {"x": x})
        for got, weight, bias, stride, pads in ((y1, w1, biases[0], (2, 2), (1, 1, 1, 1)),
                                                (y2, w2, biases[1], (1, 1), (0, 0, 0, 0))):
            expected = _conv_w8a8_reference(x, weight, bias, stride, pads)
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
        assert np.array_equal(y1[2], np.broadcast_to(biases[0][:, None, None], y1[2].shape))
        assert np.array_equal(y3, float_session.run(["y3"], {"x": x})[0])  # the single-channel conv, untouched
        alone = session.run(None, {"x": x[3:]})[0]
        assert np.array_equal(alone[0], y1[3])
        want = float_session.run(["y1"], {"x": x})[0][3]
        assert np.sqrt(np.mean((y1[3] - want) ** 2) / np.mean(want ** 2)) < 0.03  # close to the float conv


def test_fast_preset_prefills_on_w8a8_graph_and_steps_on_int4_graph(tiny_model, tmp_path):
    """`fast`: a w8a8 copy of the decoder (decoder_prefill) runs every call of PREFILL_ROWS or more new token
    rows, the int4 decoder the narrower ones; each call's outputs are exactly its graph's own outputs on the
    same inputs, and the int4 steps continue the prefill graph's cache. The aligner's one pass takes the prefill
    precision, with no second graph."""
    from qwen_asr_edge.decoder import PREFILL_ROWS, Decoder, KVCache
    from qwen_asr_edge.sessions import make_session

    fast = quantize_model_dir(tiny_model, tmp_path / "fast", "fast", "decoder=int4:16", **QUIET)
    manifest = json.loads((fast / "manifest.json").read_text())
    assert manifest["graphs"]["decoder_prefill"]["file"] == "decoder_prefill.onnx"
    assert manifest["quantization"]["prefill"] == "w8a8" and manifest["quantization"]["decoder"] == "int4:16"
    ops = {name: {n.op_type for n in onnx.load(str(fast / f"{name}.onnx")).graph.node} for name in ("decoder", "decoder_prefill")}
    assert "MatMulIntegerToFloat" in ops["decoder_prefill"] and "MatMulIntegerToFloat" not in ops["decoder"]
    assert [f for f in manifest["files"] if f.startswith("embed_tokens")] == ["embed_tokens.q8.npy", "embed_tokens.scales.npy"]

    asr = Transcriber(fast, threads=1)
    m = manifest["model"]
    layout = (m["num_layers"], m["num_kv_heads"], m["head_dim"])
    alone = {name: Decoder(make_session(fast / f"{name}.onnx", 1), asr.decoder.embed, *layout)
             for name in ("decoder", "decoder_prefill")}
    rng = np.random.default_rng(5)
    prompt = rng.standard_normal((1, 40, m["hidden_size"])).astype(np.float32)
    empty = asr.decoder.empty_cache()

    def call(decoder, embeds, start, prefix):
        positions = np.arange(start, start + embeds.shape[1])[None].repeat(len(embeds), 0)
        logits, present = decoder.run(embeds, positions, prefix, decoder.empty_cache(len(embeds)))
        return [logits, *present.keys, *present.values]

    def assert_same(got, want):
        for have, expected in zip(got, want, strict=True):
            np.testing.assert_array_equal(have, expected)

    got = call(asr.decoder, prompt, 0, empty)
    assert_same(got, call(alone["decoder_prefill"], prompt, 0, empty))
    prefix = KVCache(tuple(got[1:1 + layout[0]]), tuple(got[1 + layout[0]:]))
    for rows in (1, PREFILL_ROWS - 1, PREFILL_ROWS):
        step = rng.standard_normal((rows, 1, m["hidden_size"])).astype(np.float32)
        want = "decoder_prefill" if rows >= PREFILL_ROWS else "decoder"
        other = "decoder" if rows >= PREFILL_ROWS else "decoder_prefill"
        got = call(asr.decoder, step, 40, prefix)
        assert_same(got, call(alone[want], step, 40, prefix))
        assert not np.array_equal(got[0], call(alone[other], step, 40, prefix)[0])
    row = compare_file(Transcriber(tiny_model), asr, str(write_clip(tmp_path / "clip.wav", 3.0, seed=8)))
    assert 0 < row["encoder_conv_rel_err"] < 0.05 and 0 < row["prefill_logits_rel_err"] < 0.1

    from qwen_asr_edge.export import export_checkpoint
    from qwen_asr_edge.export.random_checkpoint import write_random_checkpoint
    aligner = export_checkpoint(write_random_checkpoint(tmp_path / "ckpt", "tiny-aligner"), tmp_path / "aligner",
                                quant="fast", log=lambda msg: None)
    manifest = json.loads((aligner / "manifest.json").read_text())
    assert "decoder_prefill" not in manifest["graphs"] and manifest["quantization"]["decoder"] == "w8a8"
    assert "prefill" not in manifest["quantization"]
    assert "MatMulIntegerToFloat" in {n.op_type for n in onnx.load(str(aligner / "decoder.onnx")).graph.node}
