"""Checkpoint directory -> exported model directory (see runtime/model_dir.py for the format).

Writes into `<out>.partial` and renames at the end, so an interrupted export never leaves a directory
that looks complete.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable

import torch

from qwen_asr_edge import __version__
from qwen_asr_edge.errors import ModelDirError
from qwen_asr_edge.model_dir import (DECODER, ENCODER_CONV, ENCODER_TRANSFORMER, decoder_cache_names,
                                    finish_model_dir, start_model_dir)
from qwen_asr_edge.quantize.head import write_table
from qwen_asr_edge.quantize.pipeline import apply_recipe, recipe_summary, write_fp32_head
from qwen_asr_edge.quantize.recipe import make_recipe

from .checkpoint import load_state_dict
from .config import ModelConfig, load_config
from .onnx_export import export_aligner_decoder, export_audio_transformer, export_conv_stem, export_decoder
from .reference_model import Qwen3ASR
from .tokenizer_export import build_tokenizer


def load_reference_model(ckpt_dir: Path) -> Qwen3ASR:
    """The PyTorch reference model with the checkpoint's weights (float32, eval mode)."""
    cfg = load_config(ckpt_dir)
    model = Qwen3ASR(cfg)
    model.load_checkpoint_state(load_state_dict(ckpt_dir, cfg.layout))
    return model.eval()


def _token_id(tokenizer, token: str) -> int:
    token_id = tokenizer.token_to_id(token)
    if token_id is None:
        raise ModelDirError(f"tokenizer has no {token} token")
    return token_id


def _model_section(cfg: ModelConfig, tokenizer) -> dict:
    a, t = cfg.audio, cfg.text
    return {
        "kind": cfg.kind,
        "source_layout": cfg.layout,
        "num_mel_bins": a.num_mel_bins,
        "encoder_d_model": a.d_model,
        "encoder_output_dim": a.output_dim,
        "chunk_frames": 2 * a.n_window,
        "window_chunks": a.n_window_infer // (2 * a.n_window),
        "hidden_size": t.hidden_size,
        "num_layers": t.num_hidden_layers,
        "num_kv_heads": t.num_key_value_heads,
        "head_dim": t.head_dim,
        "vocab_size": t.vocab_size,
        "audio_token_id": cfg.audio_token_id,
        "audio_start_token_id": cfg.audio_start_token_id,
        "audio_end_token_id": cfg.audio_end_token_id,
        "eos_token_ids": [_token_id(tokenizer, "<|im_end|>"), _token_id(tokenizer, "<|endoftext|>")],
        "classify_num": cfg.classify_num,
        "timestamp_token_id": cfg.timestamp_token_id,
        "timestamp_segment_time": cfg.timestamp_segment_time,
        "support_languages": list(cfg.support_languages),
    }


def export_checkpoint(ckpt_dir: str | Path, out_dir: str | Path, quant: str = "fp32", recipe: str = "",
                      log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr)) -> Path:
    """Export a Qwen3-ASR or Qwen3-ForcedAligner checkpoint with the `quant` preset (and `recipe` part overrides, see
    quantize/recipe.py); returns the output directory."""
    ckpt_dir, out_dir = Path(ckpt_dir), Path(out_dir)
    precisions = make_recipe(quant, recipe)
    if not ckpt_dir.is_dir():
        raise ModelDirError(f"{ckpt_dir}: checkpoint directory does not exist")
    if (ckpt_dir / "manifest.json").is_file():
        raise ModelDirError(f"{ckpt_dir}: this is already an exported model directory, not a checkpoint")
    cfg = load_config(ckpt_dir)
    work = start_model_dir(out_dir)
    started = time.time()
    log(f"loading {ckpt_dir} ({cfg.layout} layout, {cfg.text.num_hidden_layers} decoder layers)")
    model = load_reference_model(ckpt_dir)
    tokenizer, regex_fixed = build_tokenizer(ckpt_dir, cfg.transformers_version)
    if _token_id(tokenizer, "<|audio_pad|>") != cfg.audio_token_id:
        raise ModelDirError(f"{ckpt_dir}: tokenizer's <|audio_pad|> id differs from config audio_token_id {cfg.audio_token_id}")

    work.mkdir()
    graphs = {
        ENCODER_CONV: ("encoder_conv.onnx", export_conv_stem, ["mel_chunks"], ["chunk_embeds"]),
        ENCODER_TRANSFORMER: ("encoder_transformer.onnx", export_audio_transformer, ["windows"], ["audio_embeds"]),
    }
    if cfg.kind == "aligner":
        graphs[DECODER] = ("decoder.onnx", export_aligner_decoder, ["inputs_embeds", "position_ids", "slots"],
                           ["slot_logits"])
    else:
        cache_in, cache_out = decoder_cache_names(cfg.text.num_hidden_layers)
        graphs[DECODER] = ("decoder.onnx", export_decoder, ["inputs_embeds", "position_ids", *cache_in],
                           ["logits", *cache_out])
    with torch.no_grad():
        for name, (file, export_fn, _, _) in graphs.items():
            t0 = time.time()
            log(f"exporting {name} ...")
            export_fn(model, work / file)
            log(f"exported {name} in {time.time() - t0:.1f} s")
    table = model.model.embed_tokens.weight.detach().numpy()
    embed = write_table(work, table, None) if cfg.kind == "aligner" else write_fp32_head(work, graphs[DECODER][0], table)
    del model
    graph_files = {name: file for name, (file, _, _, _) in graphs.items()}
    embed = apply_recipe(work, graph_files, embed, precisions, log)
    tokenizer.save(str(work / "tokenizer.json"))
    finish_model_dir(work, out_dir, {
        "kind": cfg.kind,
        "exporter_version": __version__,
        "model": _model_section(cfg, tokenizer),
        "quantization": recipe_summary(quant, precisions),
        "graphs": {name: {"file": file, "inputs": ins, "outputs": outs} for name, (file, _, ins, outs) in graphs.items()},
        "embed_tokens": embed,
        "tokenizer": {"file": "tokenizer.json", "official_regex_fix": regex_fixed},
    })
    size = sum(p.stat().st_size for p in out_dir.iterdir())
    log(f"exported {out_dir} ({size / 1e6:.1f} MB) in {time.time() - started:.1f} s")
    return out_dir
