"""Apply a quantization recipe to a directory of fp32 graphs (an export in progress or a finished fp32 export)."""
from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import onnx
from onnx.external_data_helper import load_external_data_for_model

from qwen_asr_edge.errors import InputError
from qwen_asr_edge.model_dir import (DECODER, DECODER_PREFILL, ENCODER_CONV, ENCODER_TRANSFORMER, EXTERNAL_DATA_BYTES,
                                     finish_model_dir, open_model_dir, start_model_dir)

from .conv_w8a8 import quantize_convs_w8a8
from .fusion import fuse_rms_norms, fuse_rotary_embeddings
from .head import HEAD_NODE, attach_head, detach_head, write_table
from .ort_format import without_ort_copies
from .qdq import QDQ_OPS, apply_qdq, collect_calibration_feeds
from .recipe import PREFILL, Precision, make_recipe
from .weights import quantize_matmuls

ALIGNER_LOGITS = "slot_logits"


def save_graph(model: onnx.ModelProto, path: Path) -> None:
    """Save `model` to `path`, with its weights in `<name>.data` past EXTERNAL_DATA_BYTES (model_dir.py).

    A stale `<name>.data` left from an earlier save is removed once nothing references it.
    """
    data = path.with_name(path.name + ".data")
    raw = sum(len(t.raw_data) for t in model.graph.initializer)
    if raw > EXTERNAL_DATA_BYTES:
        data.unlink(missing_ok=True)
        onnx.save(model, str(path), save_as_external_data=True, location=data.name, size_threshold=1024)
        data.chmod(path.stat().st_mode & 0o777)  # onnx creates it owner-only; readable like the graph
        return
    onnx.save(model, str(path))
    referenced = {e.value for t in model.graph.initializer for e in t.external_data if e.key == "location"}
    if data.name not in referenced:
        data.unlink(missing_ok=True)


def write_fp32_head(work: Path, decoder_file: str, table: np.ndarray) -> dict:
    """Save the float table and append the Gemm head reading it to the decoder; returns the embed section."""
    section = write_table(work, table, None)
    attach_fp32_head(work, decoder_file, section, table.shape)
    return section


def attach_fp32_head(work: Path, decoder_file: str, section: dict, shape: tuple[int, int]) -> None:
    """Append the head reading the saved table `section` ([V, H] = `shape`) to a decoder graph file."""
    model = onnx.load(str(work / decoder_file), load_external_data=False)
    attach_head(model, work, section, *shape)
    save_graph(model, work / decoder_file)


def apply_recipe(work: Path, graphs: dict[str, dict], embed: dict, recipe: dict[str, Precision],
                 log: Callable[[str], None]) -> tuple[dict, dict[str, dict]]:
    """Quantize the fp32 graphs in `work` in place as `recipe` says; returns the new embed section and the
    graphs section (`graphs`: name -> {"file", ...}), with a `decoder_prefill` copy of the decoder's entry
    if the recipe has a prefill precision."""
    prefill = recipe.get(PREFILL)
    if prefill and DECODER_PREFILL in graphs:
        raise InputError("a prefill precision is for dynamic-shape models; this one has its own static prefill graph")
    for part in (ENCODER_CONV, ENCODER_TRANSFORMER):
        if recipe[part].bits:
            t0 = time.time()
            path = work / graphs[part]["file"]
            model = quantize_matmuls(onnx.load(str(path)), recipe[part])
            if part == ENCODER_CONV and recipe[part].dynamic:
                model = quantize_convs_w8a8(model)
            save_graph(model, path)
            log(f"quantized {part} to {recipe[part]} in {time.time() - t0:.1f} s")
    if not (recipe[DECODER].bits or recipe["embed"].bits or prefill):
        return embed, graphs
    t0 = time.time()
    fp32_decoder = work / graphs[DECODER]["file"]
    precisions = {DECODER: recipe[DECODER]}  # the graphs to write from the fp32 decoder, prefill first (below)
    if prefill:
        graphs = {**graphs, DECODER_PREFILL: {**graphs[DECODER], "file": "decoder_prefill.onnx"}}
        precisions = {DECODER_PREFILL: prefill, **precisions}  # it reads the fp32 decoder the other one replaces
    table = np.load(work / embed["file"], allow_pickle=False, mmap_mode="r")
    vocab, hidden = table.shape
    section = write_table(work, table, recipe["embed"].block_size) if recipe["embed"].bits else embed
    del table
    for name, precision in precisions.items():
        model = onnx.load(str(fp32_decoder), load_external_data=False)
        tied = any(node.name == HEAD_NODE for node in model.graph.node)  # ASR; an aligner has its own classifier
        if tied:
            detach_head(model, hidden)
        if precision.bits:
            load_external_data_for_model(model, str(work))
            model = quantize_decoder(fuse_rotary_embeddings(fuse_rms_norms(model)), precision, recipe["embed"], tied)
        if tied:
            attach_head(model, work, section, vocab, hidden)
        save_graph(model, work / graphs[name]["file"])
    if section is not embed:
        (work / embed["file"]).unlink()
    done = ", ".join(f"{name} to {precision}" for name, precision in precisions.items())
    log(f"quantized {done} and the embedding table{'/head' if tied else ''} to {recipe['embed']} "
        f"in {time.time() - t0:.1f} s")
    return section, graphs


def quantize_decoder(model: onnx.ModelProto, precision: Precision, embed: Precision, tied: bool) -> onnx.ModelProto:
    """The decoder's MatMuls at `precision`; an aligner's classifier at 8 bits, like a tied head."""
    if tied:
        return quantize_matmuls(model, precision)
    classifier = [node.name for node in model.graph.node if node.output[0] == ALIGNER_LOGITS]
    model = quantize_matmuls(model, precision, exclude=classifier)
    return quantize_matmuls(model, Precision(8, embed.block_size or 64), include=classifier)


def recipe_summary(quant: str, recipe: dict[str, Precision]) -> dict:
    return {"recipe": quant, **{part: str(p) for part, p in recipe.items()}}


def quantize_model_dir(src: str | Path, out: str | Path, quant: str, overrides: str = "",
                       calibration: Sequence[str] = (),
                       log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr)) -> Path:
    """Quantize a finished fp32 export into a new directory (no torch needed). `quant` is a preset
    (int4, int8, w8a8; with `overrides`, see recipe.py) or "qdq" (NPU graphs, calibrated on the `calibration` audio)."""
    source = open_model_dir(src)
    out = Path(out)
    if source.manifest["quantization"].get("recipe") != "fp32":
        raise InputError(f"{src}: is already quantized ({source.manifest['quantization'].get('recipe')}); "
                         "quantize from an fp32 export")
    if quant == "qdq" and not calibration:
        raise InputError("--quant qdq needs calibration audio (--calibration FILES_OR_DIRS): real speech like the "
                         "model's input, a few dozen utterances")
    recipe = None if quant == "qdq" else make_recipe(quant, overrides, source.kind)
    started = time.time()
    feeds = collect_calibration_feeds(source.path, calibration, log) if quant == "qdq" else {}
    work = start_model_dir(out)
    shutil.copytree(source.path, work)
    manifest, stale = without_ort_copies(dict(source.manifest))  # .ort copies of the source graphs would be wrong here
    for name in stale:
        (work / name).unlink()
    if recipe is None:
        every_op = source.static is not None
        apply_qdq(work, {name: meta["file"] for name, meta in manifest["graphs"].items()}, feeds, log, every_op)
        manifest["quantization"] = {"recipe": "qdq", "activations": "uint16", "weights": "uint8",
                                    "ops": "all" if every_op else QDQ_OPS, "calibration_files": len(calibration)}
    else:
        manifest["embed_tokens"], manifest["graphs"] = apply_recipe(work, manifest["graphs"], manifest["embed_tokens"],
                                                                    recipe, log)
        manifest["quantization"] = recipe_summary(quant, recipe)
    finish_model_dir(work, out, manifest)
    log(f"quantized {out} ({sum(p.stat().st_size for p in out.iterdir()) / 1e6:.1f} MB) in {time.time() - started:.1f} s")
    return out
