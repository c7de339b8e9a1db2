"""ORT-format copies (quantize/ort_format.py): manifest bookkeeping, numerics against the .onnx graphs on real
inputs, the reduced-build operators config, and interrupted or refused runs.

Measured here (ORT 1.32, x86 CPU EP, with the saved runtime optimizations replayed): fp32 graphs within ~1e-6
of the .onnx outputs (relative to the output's largest magnitude); the int8, int4 and QDQ decoders bit-identical,
their encoders within ~3e-5. The residue comes from fusions the Runtime style leaves out (FusedMatMul,
SkipLayerNormalization, ...) and, on x86, from NCHWc convolutions, which the .onnx session uses and the ARM-targeted
.ort does not.
"""
from __future__ import annotations

import json
import os
import shutil
from importlib.metadata import version
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnxruntime.tools.reduced_build_config_parser import parse_config

from qwen_asr_edge import Transcriber
from qwen_asr_edge.errors import InputError
from qwen_asr_edge.model_dir import MANIFEST, open_model_dir
from qwen_asr_edge.quantize import ort_format
from qwen_asr_edge.quantize.ort_format import SESSION_CONFIG, add_ort_copies, external_data, ort_graph_path
from qwen_asr_edge.quantize.qdq import collect_calibration_feeds

from .fixtures import REPO, cached_dir, digest, write_clip

QUIET = dict(log=lambda msg: None)
VARIANTS = ("fp32", "int8", "int4", "qdq")
# Outputs that went through an activation quantizer (MatMulNBits accuracy level 4, QDQ) may move by one step
# where a ~1e-6 difference upstream crosses a rounding boundary: only isolated elements may differ that much.
MAX_REL = {"fp32": 1e-5, "int8": 5e-2, "int4": 5e-2, "qdq": 5e-2}
MEAN_REL = 1e-5
# what the cached exports depend on (not this test's subject, quantize/ort_format.py)
SOURCES = sorted(p for p in [*(REPO / "export").glob("*.py"), *(REPO / "quantize").glob("*.py"),
                             REPO / "runtime" / "model_dir.py"] if p.name != "ort_format.py")


@pytest.fixture(scope="module")
def variants() -> Path:
    """fp32, int8, int4 and qdq exports of the tiny random checkpoint, cached under CACHE/models."""
    from qwen_asr_edge.export import export_checkpoint
    from qwen_asr_edge.export.random_checkpoint import write_random_checkpoint
    from qwen_asr_edge.quantize.pipeline import quantize_model_dir

    def build(out: Path) -> None:
        ckpt = write_random_checkpoint(out / "ckpt", "tiny", seed=1)
        fp32 = export_checkpoint(ckpt, out / "fp32", **QUIET)
        for quant in ("int8", "int4"):
            quantize_model_dir(fp32, out / quant, quant, **QUIET)
        (out / "calibration").mkdir()
        calibration = [str(write_clip(out / "calibration" / f"{i}.wav", 1.5 + i, seed=20 + i)) for i in range(2)]
        quantize_model_dir(fp32, out / "qdq", "qdq", calibration=calibration, **QUIET)
        shutil.rmtree(out / "ckpt")
        shutil.rmtree(out / "calibration")

    key = digest(*SOURCES, ort.__version__, onnx.__version__, version("torch"))
    return cached_dir("models/tiny-variants", key, build)


def _copy(src: Path, dst: Path) -> Path:
    """A hard-linked copy (add_ort_copies adds files and replaces manifest.json, never rewrites a file)."""
    shutil.copytree(src, dst, copy_function=os.link)
    return dst


def _session(path: Path, profile_prefix: str | None = None, replay: bool = True) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    if replay:
        for key, value in SESSION_CONFIG.items():
            options.add_session_config_entry(key, value)
    if profile_prefix:
        options.enable_profiling = True
        options.profile_file_prefix = profile_prefix
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _executed_ops(path: Path, feeds: list[dict], tmp_path: Path, replay: bool) -> set[str]:
    """Op types of the kernels a session of `path` runs on `feeds` (from its profile)."""
    session = _session(path, str(tmp_path / "profile"), replay)
    for feed in feeds:
        session.run(None, feed)
    events = json.loads(Path(session.end_profiling()).read_text())
    return {e["args"]["op_name"] for e in events if e.get("cat") == "Node" and e["name"].endswith("_kernel_time")}


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return write_clip(tmp_path_factory.mktemp("ort_clip") / "clip.wav", 3.2, seed=50)


@pytest.mark.parametrize("variant", VARIANTS)
def test_ort_copies_match_the_onnx_graphs(variants, variant, clip, tmp_path):
    """Each .ort graph gives the .onnx graph's outputs on the inputs recorded while transcribing a clip; the
    decoder's copy embeds the head's table; the operators config is exactly what the sessions run."""
    model_dir = _copy(variants / variant, tmp_path / variant)
    add_ort_copies(model_dir, **QUIET)
    model = open_model_dir(model_dir, verify=True)
    section = model.manifest["ort"]
    assert section["optimization_style"] == "Runtime" and section["session_config"] == SESSION_CONFIG
    assert set(section["graphs"]) == set(model.manifest["graphs"])
    decoder = model.graph("decoder")
    external = sum(external_data(decoder).values())  # the head's table (a QDQ decoder has its head inside)
    assert ort_graph_path(model, "decoder").stat().st_size > external, "the decoder .ort must hold the head's weights"

    feeds = collect_calibration_feeds(model_dir, [str(clip)], **QUIET)
    executed: set[str] = set()
    for name in model.manifest["graphs"]:
        reference, copy = _session(model.graph(name)), _session(ort_graph_path(model, name))
        for feed in feeds[name]:
            for expected, got in zip(reference.run(None, feed), copy.run(None, feed)):
                scale = max(float(np.abs(expected).max()), 1e-6)
                diff = np.abs(got - expected)
                assert diff.max() <= MAX_REL[variant] * scale and diff.mean() <= MEAN_REL * scale, f"{variant} {name}"
        for replay in (True, False):
            executed |= _executed_ops(ort_graph_path(model, name), feeds[name][:2], tmp_path, replay)

    required, _ = parse_config(str(model.file(section["operators_config"])))
    assert {op for opsets in required.values() for ops in opsets.values() for op in ops} == executed


def test_transcriber_on_ort_copies_gives_the_same_tokens(variants, clip, tmp_path):
    """End to end on the fp32 model: the Transcriber with its sessions on the .ort copies, token for token."""
    model_dir = _copy(variants / "fp32", tmp_path / "fp32")
    add_ort_copies(model_dir, **QUIET)
    reference, copy = Transcriber(model_dir), Transcriber(model_dir)
    model = copy.model_dir
    copy.encoder.conv = _session(ort_graph_path(model, "encoder_conv"))
    copy.encoder.transformer = _session(ort_graph_path(model, "encoder_transformer"))
    copy.decoder.session = _session(ort_graph_path(model, "decoder"))
    expected = reference.transcribe(clip).tokens
    assert len(expected) > 10 and copy.transcribe(clip).tokens == expected


def _snapshot(model_dir: Path) -> tuple[bytes, list[str]]:
    return (model_dir / MANIFEST).read_bytes(), sorted(p.name for p in model_dir.parent.iterdir())


def test_too_big_for_the_ort_format_is_refused_up_front(variants, tmp_path, monkeypatch):
    model_dir = _copy(variants / "int8", tmp_path / "int8")
    before = _snapshot(model_dir)
    reads = external_data(model_dir / "decoder.onnx")
    assert reads["embed_tokens.q8.npy"] > 7e6  # the head's table, past the .npy header
    needed = (model_dir / "decoder.onnx").stat().st_size + sum(reads.values())
    monkeypatch.setattr(ort_format, "FLATBUFFER_LIMIT", needed - 1)
    with pytest.raises(InputError, match="decoder graph needs .* ORT-format file holds at most"):
        add_ort_copies(model_dir, **QUIET)
    assert _snapshot(model_dir) == before and not list(model_dir.glob("*.ort"))


def test_an_interrupted_run_leaves_a_valid_directory(variants, tmp_path, monkeypatch):
    """Interrupted after the new files are in place but before the manifest: the old manifest still holds;
    on a directory that had copies, the manifest has already dropped them. A new run repairs both."""
    model_dir = _copy(variants / "int4", tmp_path / "int4")
    original = json.loads((model_dir / MANIFEST).read_text())

    def interrupt(path):
        raise KeyboardInterrupt

    def interrupted_run_keeps_the_original():
        with monkeypatch.context() as patch:
            patch.setattr(ort_format, "sha256_of", interrupt)
            with pytest.raises(KeyboardInterrupt):
                add_ort_copies(model_dir, **QUIET)
        assert json.loads((model_dir / MANIFEST).read_text()) == original
        open_model_dir(model_dir, verify=True)

    interrupted_run_keeps_the_original()
    add_ort_copies(model_dir, **QUIET)
    interrupted_run_keeps_the_original()

    add_ort_copies(model_dir, **QUIET)
    assert "ort" in open_model_dir(model_dir, verify=True).manifest
    assert not model_dir.with_name(model_dir.name + ".ort-partial").exists()
