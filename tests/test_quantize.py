"""Quantization: recipes, the shared int8 table/head against exact math, and the quantize/quant-report commands."""
import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from qwen_asr_edge import Transcriber
from qwen_asr_edge.cli import main
from qwen_asr_edge.embedding import EmbeddingTable
from qwen_asr_edge.errors import InputError
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
    """int8 against fp32: each graph's error is small but not zero, the conv stem (kept fp32) is exact."""
    clips = [write_clip(tmp_path / f"c{i}.wav", seconds, seed=i) for i, seconds in enumerate((1.4, 9.2))]
    assert main(["quant-report", str(tiny_model), str(int8_model), *map(str, clips), str(tmp_path / "missing.wav"), "--json"]) == 2
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert [r["file"] for r in rows] == [*map(str, clips), "mean"]
    assert "missing.wav" in captured.err
    for row in rows:
        assert row["encoder_conv_rel_err"] == 0.0
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
