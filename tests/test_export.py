"""Exporter behaviour beyond parity: tied-head handling, clear refusals, the written directory."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from qwen_asr_edge import ModelDirError, Transcriber
from qwen_asr_edge.errors import InputError
from qwen_asr_edge.export import export_checkpoint
from qwen_asr_edge.export.config import parse_config
from qwen_asr_edge.export.random_checkpoint import CONFIGS, official_config, write_random_checkpoint
from qwen_asr_edge.export.reference_model import Qwen3ASR

from .fixtures import synth_clip

QUIET = dict(log=lambda msg: None)


def test_stored_tied_head_is_ignored(tmp_path):
    """ASR heads are tied to the embedding; like the official backends, a stored lm_head copy is ignored."""
    ckpt = write_random_checkpoint(tmp_path / "ckpt", "tiny", seed=4)
    weights = load_file(str(ckpt / "model.safetensors"))
    base = Transcriber(export_checkpoint(ckpt, tmp_path / "with_copy", **QUIET), max_new_tokens=4)
    weights["thinker.lm_head.weight"] = torch.randn_like(weights["thinker.lm_head.weight"])
    save_file(weights, str(ckpt / "model.safetensors"))
    changed = Transcriber(export_checkpoint(ckpt, tmp_path / "other_copy", **QUIET), max_new_tokens=4)
    del weights["thinker.lm_head.weight"]
    save_file(weights, str(ckpt / "model.safetensors"))
    absent = Transcriber(export_checkpoint(ckpt, tmp_path / "absent", **QUIET), max_new_tokens=4)
    audio = synth_clip(1.5, seed=2)
    logits = [asr.generate(audio, keep_logits=True).logits[0] for asr in (base, changed, absent)]
    np.testing.assert_array_equal(logits[0], logits[1])
    np.testing.assert_array_equal(logits[0], logits[2])


def test_manifest_describes_the_directory(tiny_model):
    manifest = json.loads((tiny_model / "manifest.json").read_text())
    assert manifest["format"] == "qwen-asr-edge" and manifest["kind"] == "asr"
    assert set(manifest["files"]) == {p.name for p in tiny_model.iterdir()} - {"manifest.json"}
    assert manifest["model"]["eos_token_ids"] == [151645, 151643]
    assert manifest["tokenizer"]["official_regex_fix"] is True  # config says transformers 4.57.6


def test_refusals(tmp_path, tiny_model):
    with pytest.raises(ModelDirError, match="already an exported model"):
        export_checkpoint(tiny_model, tmp_path / "x", **QUIET)
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    ckpt = write_random_checkpoint(tmp_path / "ckpt", "tiny")
    (pickled / "config.json").write_text((ckpt / "config.json").read_text())
    (pickled / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(ModelDirError, match="pickle files are never loaded"):
        export_checkpoint(pickled, tmp_path / "y", **QUIET)
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="refusing to overwrite"):
        export_checkpoint(ckpt, precious, **QUIET)
    assert (precious / "notes.txt").read_text() == "keep me"
    with pytest.raises(InputError, match="choose one of"):
        export_checkpoint(ckpt, tmp_path / "z", quant="int2", **QUIET)


@pytest.mark.parametrize("name, audio_m, llm_m", [("full-0.6b", 186.4, 596.0), ("full-1.7b", 317.5, 1720.6),
                                                  ("full-aligner-0.6b", 316.4, 596.0)])
def test_full_size_configs_have_the_released_parameter_counts(name, audio_m, llm_m):
    """Parameter counts (millions) of the audio tower and of the LLM without its head, as counted from the
    released shapes in ../shared/reference/qwen3-asr-model.md (the released aligner's table has 152064 rows,
    596.2 M; the random one keeps the ASR model's 151936, which changes no timing). Built on the meta device:
    no memory, no time."""
    with torch.device("meta"):
        model = Qwen3ASR(parse_config(official_config(CONFIGS[name])))
    millions = {part: round(sum(p.numel() for p in getattr(model, part).parameters()) / 1e6, 1)
                for part in ("audio_tower", "model")}
    assert millions == {"audio_tower": audio_m, "model": llm_m}


def test_decode_attention_products_take_the_matrix_vector_path(tiny_model, tmp_path):
    """At a decode step, after ONNX Runtime's fusions, every attention product multiplies one query row (the
    grouped [B, kv, g, S, hd] layout) with alpha 1: MLAS's unpacked matrix-vector kernels need both, and the
    folded [B, kv, g*S, hd] rows or a scale fused into the product fall back to packing the whole K/V cache."""
    import onnx
    import onnxruntime as ort

    model = json.loads((tiny_model / "manifest.json").read_text())["model"]
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    options.enable_profiling, options.profile_file_prefix = True, str(tmp_path / "profile")
    session = ort.InferenceSession(str(tiny_model / "decoder.onnx"), options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {"inputs_embeds": rng.standard_normal((1, 1, model["hidden_size"]), dtype=np.float32),
             "position_ids": np.array([[9]])}
    for i in range(model["num_layers"]):
        for kind in ("key", "value"):
            feeds[f"prefix.{i}.{kind}"] = rng.standard_normal((1, model["num_kv_heads"], 6, model["head_dim"]), dtype=np.float32)
            feeds[f"past.{i}.{kind}"] = rng.standard_normal((1, model["num_kv_heads"], 3, model["head_dim"]), dtype=np.float32)
    session.run(None, feeds)
    events = json.loads(Path(session.end_profiling()).read_text())
    graph = onnx.load(options.optimized_model_filepath, load_external_data=False).graph
    weights = {init.name for init in graph.initializer}
    products = {n.name: n for n in graph.node if n.op_type in ("MatMul", "FusedMatMul") and not weights & set(n.input)}
    assert len(products) == 4 * model["num_layers"]  # q.K and p.V, against the prefix and against past ++ new
    rows = {e["name"][:-len("_kernel_time")]: e["args"]["input_type_shape"][0] for e in events
            if e.get("cat") == "Node" and e["name"].endswith("_kernel_time")}
    for name, node in products.items():
        assert next((a.f for a in node.attribute if a.name == "alpha"), 1.0) == 1.0, name
        (shape,) = rows[name].values()
        assert len(shape) == 5 and shape[-2] == 1, (name, shape)


def test_encoder_activations_run_fused(tiny_model, tmp_path):
    """The encoder graphs' GELUs reach ONNX Runtime as one op each (Gelu, or BiasGelu with the MLP's bias),
    not as the five element-wise nodes of opset 18's erf expansion."""
    import onnx
    import onnxruntime as ort

    for name in ("encoder_conv", "encoder_transformer"):
        options = ort.SessionOptions()
        options.optimized_model_filepath = str(tmp_path / f"{name}.onnx")
        ort.InferenceSession(str(tiny_model / f"{name}.onnx"), options, providers=["CPUExecutionProvider"])
        ops = [n.op_type for n in onnx.load(options.optimized_model_filepath, load_external_data=False).graph.node]
        assert "Erf" not in ops and ops.count("Gelu") + ops.count("BiasGelu") > 0, (name, sorted(set(ops)))
