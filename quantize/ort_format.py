"""ORT-format copies of an exported model's graphs, for ONNX Runtime Mobile and minimal (reduced-operator) builds.

`add_ort_copies(model_dir)` writes `<graph>.with_runtime_opt.ort` next to every graph of the manifest and
`required_operators_and_types.with_runtime_opt.config` (the `--include_ops_by_config` input of a minimal build,
operators with their types), and records them in manifest["ort"] and manifest["files"].

Optimization style: "Runtime" only. Basic optimizations are baked in. The CPU EP's QDQ and MatMulNBits
fusions are saved as records and replayed at load when `session.enable_saved_runtime_optimizations` is 1
(SESSION_CONFIG), on the nodes no compiling EP took. One file therefore serves a CPU-only app and an app that
registers NNAPI, CoreML or QNN: those EPs see standard ONNX ops and intact Q/DQ units, not CPU-only fused
ops. The config covers the graphs with and without the replay. The "Fixed" style would bake in every CPU EP
fusion as decided on the converting machine. It is bit-identical to the `.onnx` graphs on the x86 CPU EP, but
it hides ops from compiling EPs and fuses the QDQ groups. It is not written.
The Runtime style's cost, measured with ORT 1.32 on x86 (tests/test_ort_format.py): ORT-format graphs are not
re-optimized at load, so fusions that have no replay record (FusedMatMul, QuickGelu, SkipLayerNormalization)
stay unfused. With the replay, the quantized decoders match the `.onnx` graphs bit for bit; the other graphs
are within ~1e-6 relative (float re-association), or ~3e-5 where a QDQ quantizer rounds one step differently.
Speed was within the noise of a loaded 2-core machine. Without the replay, QDQ graphs run unfused Q/DQ
arithmetic (up to 9e-2 off) and MatMulNBits bias additions stay separate nodes.

Weights: an ORT-format inference model cannot keep data outside its file. Each `.ort` holds all of its
weights, including the tied head's token table, which the decoder `.onnx` reads out of embed_tokens*.npy
(external data with an offset). The decoder `.ort` thus carries a second copy of the table; the host still
reads the `.npy` for lookups. A flatbuffer stops at 2 GiB (32-bit offsets). A 0.6B fp32 decoder goes over
that (1.77 GB body + 0.62 GB table); quantize such a model first.
"""
from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
import sys
from pathlib import Path
from typing import Callable

import onnx
import onnxruntime as ort
from onnxruntime.tools.convert_onnx_models_to_ort import OptimizationStyle, convert_onnx_models_to_ort

from qwen_asr_edge.errors import InputError, ModelDirError
from qwen_asr_edge.model_dir import MANIFEST, ModelDir, open_model_dir, sha256_of

OPTIMIZATION_STYLE = OptimizationStyle.Runtime
ORT_SUFFIX = ".with_runtime_opt.ort"
OPERATORS_CONFIG = "required_operators_and_types.with_runtime_opt.config"
SESSION_CONFIG = {"session.enable_saved_runtime_optimizations": "1"}  # replay the saved CPU EP fusions
FLATBUFFER_LIMIT = 2**31 - 1  # bytes in one ORT-format file


def external_data(graph: Path) -> dict[str, int]:
    """The files `graph` reads initializer data from (the table .npy, `<graph>.data`) and the bytes it reads
    from each."""
    model = onnx.load(str(graph), load_external_data=False)
    reads: dict[str, int] = {}
    for tensor in model.graph.initializer:
        info = {entry.key: entry.value for entry in tensor.external_data}
        if "location" in info:
            file_size = (graph.parent / info["location"]).stat().st_size
            length = int(info["length"]) if "length" in info else file_size - int(info.get("offset", 0))
            reads[info["location"]] = reads.get(info["location"], 0) + length
    return reads


def without_ort_copies(manifest: dict) -> tuple[dict, list[str]]:
    """`manifest` without its ORT section and those files' entries, and the names of the files it drops.

    A copied model directory (e.g. the input of `quantize`) must drop them: they are conversions of the old graphs."""
    section = manifest.get("ort")
    if section is None:
        return dict(manifest), []
    dropped = [*section["graphs"].values(), section["operators_config"]]
    files = {name: meta for name, meta in manifest["files"].items() if name not in dropped}
    return {**{k: v for k, v in manifest.items() if k != "ort"}, "files": files}, dropped


def write_manifest(model_dir: Path, manifest: dict) -> None:
    """Replace model_dir/manifest.json atomically (written beside it, then renamed over it)."""
    staged = model_dir / (MANIFEST + ".partial")
    staged.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(staged, model_dir / MANIFEST)


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:  # a file system without hard links
        shutil.copy2(src, dst)


def _convert(staging: Path) -> None:
    """Convert every .onnx in `staging` and write the operators config there. The ARM target allows the int8
    QDQ fusions that ARM CPUs get (session.qdqisint8allowed) and leaves out the x86-only NCHWc layout."""
    config_log = logging.getLogger("ort_format_model.utils")  # logs the config's path at INFO
    level = config_log.level
    config_log.setLevel(logging.WARNING)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the converter prints a line per step
            convert_onnx_models_to_ort(staging, optimization_styles=[OPTIMIZATION_STYLE], target_platform="arm",
                                       enable_type_reduction=True)
    finally:
        config_log.setLevel(level)


def _reword_config_header(config: Path, ort_files: list[str]) -> None:
    """Replace the converter's header (absolute paths of the staging files) by a reproducible one."""
    body = [line for line in config.read_text().splitlines() if not line.startswith("#")]
    header = [f"# Operators and types of {', '.join(ort_files)} (ORT format, Runtime optimization style), "
              "with and without the saved runtime optimizations applied;",
              f"# written by qwen-asr-edge with onnxruntime {ort.__version__}."]
    config.write_text("\n".join(header + body) + "\n")


def add_ort_copies(model_dir: str | os.PathLike,
                   log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr)) -> None:
    """Write an ORT-format copy of every graph of the exported `model_dir` and the operators config for a
    minimal build, and record them in its manifest (replacing earlier copies).

    Earlier copies are first dropped from the manifest and the new manifest is renamed into place last, so an
    interrupted run leaves a valid directory (without copies, plus at most unlisted files that the next run
    overwrites). InputError, before anything is written, if a graph is too big for the ORT format."""
    model = open_model_dir(model_dir)
    path = model.path
    graph_files = {name: meta["file"] for name, meta in model.manifest["graphs"].items()}
    inputs = set(graph_files.values())
    for name, file in graph_files.items():
        reads = external_data(path / file)
        inputs.update(reads)
        size = (path / file).stat().st_size + sum(reads.values())
        if size > FLATBUFFER_LIMIT:
            raise InputError(f"{path}: the {name} graph needs {size / 1e9:.2f} GB, and an ORT-format file holds "
                             f"at most {FLATBUFFER_LIMIT / 1e9:.2f} GB (32-bit flatbuffer offsets; onnxruntime "
                             f"{ort.__version__} keeps no weights outside an .ort model); quantize the model first "
                             "(quantize --quant int8 or int4) or ship the .onnx graphs")
    manifest, stale = without_ort_copies(model.manifest)
    if stale:
        write_manifest(path, manifest)
        for name in stale:
            (path / name).unlink(missing_ok=True)
    ort_files = {name: Path(file).stem + ORT_SUFFIX for name, file in graph_files.items()}
    staging = path.with_name(path.name + ".ort-partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        for file in inputs:
            _link_or_copy(path / file, staging / file)
        _convert(staging)
        _reword_config_header(staging / OPERATORS_CONFIG, sorted(ort_files.values()))
        for file in [*ort_files.values(), OPERATORS_CONFIG]:
            os.replace(staging / file, path / file)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    new_files = {file: {"size": (path / file).stat().st_size, "sha256": sha256_of(path / file)}
                 for file in [*ort_files.values(), OPERATORS_CONFIG]}
    manifest["ort"] = {"optimization_style": OPTIMIZATION_STYLE.name, "onnxruntime_version": ort.__version__,
                       "graphs": ort_files, "operators_config": OPERATORS_CONFIG, "session_config": SESSION_CONFIG}
    manifest["files"] = dict(sorted({**manifest["files"], **new_files}.items()))
    write_manifest(path, manifest)
    sizes = ", ".join(f"{file} {new_files[file]['size'] / 1e6:.1f} MB" for file in ort_files.values())
    log(f"wrote ORT-format copies to {path}: {sizes}; operators config {OPERATORS_CONFIG}")


def ort_graph_path(model: ModelDir, name: str) -> Path:
    """The ORT-format copy of graph `name`; load it with SESSION_CONFIG (the manifest's ort.session_config)."""
    section = model.manifest.get("ort")
    if section is None:
        raise ModelDirError(f"{model.path}: has no ORT-format copies (make them with add_ort_copies)")
    return model.path / section["graphs"][name]
