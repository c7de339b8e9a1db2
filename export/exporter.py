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
from qwen_asr_edge.errors import InputError, ModelDirError
from qwen_asr_edge.model_dir import (DECODER, DECODER_PREFILL, ENCODER_CONV, ENCODER_TRANSFORMER, decoder_cache_names,
                                    finish_model_dir, start_model_dir)
from qwen_asr_edge.quantize.head import write_table
from qwen_asr_edge.quantize.pipeline import apply_recipe, attach_fp32_head, recipe_summary, write_fp32_head
from qwen_asr_edge.quantize.recipe import make_recipe

from .checkpoint import load_state_dict
from .config import ModelConfig, load_config
from .onnx_export import export_aligner_decoder, export_audio_transformer, export_conv_stem, export_decoder
from .reference_model import Qwen3ASR
from .static_export import (export_static_audio_transformer, export_static_conv_stem, export_static_decoder,
                            static_decoder_io)
from .tokenizer_export import build_tokenizer

DEFAULT_KV_CAPACITY = 1024  # static graphs: prompt + generated tokens of a 30 s window fit with room to spare
DEFAULT_PREFILL_TOKENS = 32
STATIC_MASK_BIAS = -100.0
"""Additive bias of a masked key in static graphs: exp(-100) is negligible next to a real key, and a
small range keeps 16-bit quantized attention scores fine-grained (about 0.002 per step instead of 0.15)."""


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
                      log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr), static: bool = False,
                      kv_capacity: int = DEFAULT_KV_CAPACITY, prefill_tokens: int = DEFAULT_PREFILL_TOKENS) -> Path:
    """Export a Qwen3-ASR or Qwen3-ForcedAligner checkpoint with the `quant` preset (and `recipe` part overrides, see
    quantize/recipe.py); returns the output directory.

    `static`: static-shape NPU graphs of an ASR model (fp32 only; `quantize --quant qdq` makes the NPU's
    16/8-bit version), with a `kv_capacity`-slot decoder cache and prompt blocks of `prefill_tokens`."""
    ckpt_dir, out_dir = Path(ckpt_dir), Path(out_dir)
    if not ckpt_dir.is_dir():
        raise ModelDirError(f"{ckpt_dir}: checkpoint directory does not exist")
    if (ckpt_dir / "manifest.json").is_file():
        raise ModelDirError(f"{ckpt_dir}: this is already an exported model directory, not a checkpoint")
    cfg = load_config(ckpt_dir)
    precisions = make_recipe(quant, recipe, cfg.kind)
    if static and (cfg.kind != "asr" or quant != "fp32" or recipe):
        raise InputError("--static exports fp32 graphs of an ASR model; quantize them for the NPU afterwards "
                         "with `qwen-asr-edge quantize DIR OUT --quant qdq --calibration AUDIO`")
    if static and not (1 <= prefill_tokens <= kv_capacity):
        raise InputError(f"--prefill-tokens {prefill_tokens}: must be between 1 and the KV capacity {kv_capacity}")
    work = start_model_dir(out_dir)
    started = time.time()
    log(f"loading {ckpt_dir} ({cfg.layout} layout, {cfg.text.num_hidden_layers} decoder layers)")
    model = load_reference_model(ckpt_dir)
    tokenizer, regex_fixed = build_tokenizer(ckpt_dir, cfg.transformers_version)
    if _token_id(tokenizer, "<|audio_pad|>") != cfg.audio_token_id:
        raise ModelDirError(f"{ckpt_dir}: tokenizer's <|audio_pad|> id differs from config audio_token_id {cfg.audio_token_id}")

    work.mkdir()
    if static:
        graphs = _static_graphs(cfg, kv_capacity, prefill_tokens)
    else:
        graphs = _dynamic_graphs(cfg)
    with torch.no_grad():
        for name, (file, export_fn, _, _) in graphs.items():
            t0 = time.time()
            log(f"exporting {name} ...")
            export_fn(model, work / file)
            log(f"exported {name} in {time.time() - t0:.1f} s")
    table = model.model.embed_tokens.weight.detach().numpy()
    if cfg.kind == "aligner":
        embed = write_table(work, table, None)
    else:
        embed = write_fp32_head(work, graphs[DECODER][0], table)
        if static:
            attach_fp32_head(work, graphs[DECODER_PREFILL][0], embed, table.shape)
    del model
    graph_section = {name: {"file": file, "inputs": ins, "outputs": outs} for name, (file, _, ins, outs) in graphs.items()}
    embed, graph_section = apply_recipe(work, graph_section, embed, precisions, log)
    tokenizer.save(str(work / "tokenizer.json"))
    manifest = {
        "kind": cfg.kind,
        "exporter_version": __version__,
        "model": _model_section(cfg, tokenizer),
        "quantization": recipe_summary(quant, precisions),
        "graphs": graph_section,
        "embed_tokens": embed,
        "tokenizer": {"file": "tokenizer.json", "official_regex_fix": regex_fixed},
    }
    if static:
        manifest["static"] = {"kv_capacity": kv_capacity, "prefill_tokens": prefill_tokens,
                              "rope_theta": cfg.text.rope_theta, "mask_bias": STATIC_MASK_BIAS}
    finish_model_dir(work, out_dir, manifest)
    size = sum(p.stat().st_size for p in out_dir.iterdir())
    log(f"exported {out_dir} ({size / 1e6:.1f} MB) in {time.time() - started:.1f} s")
    return out_dir


def _dynamic_graphs(cfg: ModelConfig) -> dict[str, tuple]:
    """name -> (file, export function, input names, output names) of the usual dynamic-shape graphs."""
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
    return graphs


def _static_graphs(cfg: ModelConfig, kv_capacity: int, prefill_tokens: int) -> dict[str, tuple]:
    """The static-shape NPU graphs (export/static_export.py) of an ASR model."""
    inputs, outputs = static_decoder_io(cfg.text.num_hidden_layers)
    outputs = ["logits", *outputs[1:]]
    return {
        ENCODER_CONV: ("encoder_conv.onnx", export_static_conv_stem, ["mel_chunks"], ["chunk_embeds"]),
        ENCODER_TRANSFORMER: ("encoder_transformer.onnx", export_static_audio_transformer, ["windows", "key_bias"],
                              ["audio_embeds"]),
        DECODER: ("decoder.onnx", lambda m, p: export_static_decoder(m, p, 1, kv_capacity), inputs, outputs),
        DECODER_PREFILL: ("decoder_prefill.onnx", lambda m, p: export_static_decoder(m, p, prefill_tokens, kv_capacity),
                          inputs, outputs),
    }
