"""torch.onnx.export (dynamo) of the three graphs of an ASR model (and the aligner's decoder).

encoder_conv        mel_chunks [n_chunks, 128, frames<=100]  -> chunk_embeds [n_chunks, tokens, d]
encoder_transformer windows    [n_windows, tokens<=104, d]   -> audio_embeds [n_windows, tokens, output_dim]
decoder             inputs_embeds [batch, seq, H], position_ids [batch, seq] (int64),
                    prefix.i.key/value [1, kv, prefix_len, hd], past.i.key/value [batch, kv, past_len, hd]
                    -> last_hidden [batch, H] (final-norm output at the last position),
                       present.i.key/value [batch, kv, past_len+seq, hd]
                    (the exporter then appends the tied head last_hidden -> logits, see quantize/head.py)
Traced with deliberately odd sizes (no dimension of size 0 or 1, which torch.export would specialise);
the graphs accept zero-length prefix/past at run time.
"""
from __future__ import annotations

import logging
import warnings
from pathlib import Path

import torch
from torch import nn
from torch.export import Dim

from qwen_asr_edge.model_dir import EXTERNAL_DATA_BYTES, decoder_cache_names

from qwen_asr_edge.quantize.head import HIDDEN

from .reference_model import AudioEncoder, Qwen3ASR

OPSET = 18
ENCODER_OPSET = 20
"""The encoder graphs' opset: from 20, F.gelu exports as the ONNX `Gelu` op, which ONNX Runtime runs fused (with
the encoder MLPs' bias: `BiasGelu`); at 18 it is x * (0.5 * (1 + erf(x / sqrt 2))), an order ORT's GeluFusion
does not match, left as five element-wise nodes per activation (0.6B fp32 encoder on 10 s, 2 cores: median
922 -> 854 ms, best 842 -> 747, `python -m benchmarks.graph_ab encoder OLD NEW`)."""


class ConvStemGraph(nn.Module):
    def __init__(self, encoder: AudioEncoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, mel_chunks: torch.Tensor) -> torch.Tensor:
        return self.encoder.conv_stem(mel_chunks)


class TransformerGraph(nn.Module):
    def __init__(self, encoder: AudioEncoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, windows: torch.Tensor, key_bias: torch.Tensor | None = None) -> torch.Tensor:
        return self.encoder.transformer(windows, key_bias)


class _DecoderGraph(nn.Module):
    def __init__(self, model: Qwen3ASR):
        super().__init__()
        self.model = model

    def forward(self, inputs_embeds, position_ids, *cache):
        caches = [cache[i:i + 4] for i in range(0, len(cache), 4)]
        hidden, presents = self.model.model(inputs_embeds, position_ids, caches)
        return (hidden[:, -1, :], *presents)


class _AlignerGraph(nn.Module):
    """The forced aligner's single pass: no cache, class logits only at the requested (slot) positions."""

    def __init__(self, model: Qwen3ASR):
        super().__init__()
        self.model = model

    def forward(self, inputs_embeds, position_ids, slots):
        t = self.model.cfg.text
        batch = inputs_embeds.shape[0]
        empty_prefix = inputs_embeds.new_zeros(1, t.num_key_value_heads, 0, t.head_dim)
        empty_past = inputs_embeds.new_zeros(batch, t.num_key_value_heads, 0, t.head_dim)
        caches = [(empty_prefix, empty_prefix, empty_past, empty_past)] * t.num_hidden_layers
        hidden, _ = self.model.model(inputs_embeds, position_ids, caches)
        picked = torch.gather(hidden, 1, slots[..., None].expand(-1, -1, hidden.shape[-1]))
        return picked @ self.model.head_weight().T


def export_graph(module: nn.Module, args: tuple, path: Path, input_names: list[str], output_names: list[str],
                 dynamic_shapes: tuple | None, opset: int = OPSET) -> None:
    """torch.onnx.export (dynamo) of `module`; `dynamic_shapes` None makes every shape static."""
    for name in ("torch.onnx", "onnx_ir", "onnxscript"):
        logging.getLogger(name).setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            module.eval(), args, dynamo=True, opset_version=opset, input_names=input_names,
            output_names=output_names, dynamic_shapes=dynamic_shapes, external_data=False, verbose=False,
            optimize=True,
        )
    program.save(str(path), external_data=_needs_external_data(module))


def _needs_external_data(module: nn.Module) -> bool:
    """Weights past EXTERNAL_DATA_BYTES (model_dir.py) go to `<name>.onnx.data`."""
    return sum(p.numel() * p.element_size() for p in module.parameters()) > EXTERNAL_DATA_BYTES


def export_conv_stem(model: Qwen3ASR, path: Path) -> None:
    n, frames = Dim("n_chunks", min=1), Dim("frames", min=1, max=100)
    mel = torch.randn(3, model.cfg.audio.num_mel_bins, 97)
    export_graph(ConvStemGraph(model.audio_tower), (mel,), path, ["mel_chunks"], ["chunk_embeds"],
            ({0: n, 2: frames},), ENCODER_OPSET)


def export_audio_transformer(model: Qwen3ASR, path: Path) -> None:
    n, tokens = Dim("n_windows", min=1), Dim("tokens", min=1)
    windows = torch.randn(3, 37, model.cfg.audio.d_model)
    export_graph(TransformerGraph(model.audio_tower), (windows,), path, ["windows"], ["audio_embeds"],
            ({0: n, 1: tokens},), ENCODER_OPSET)


def export_decoder(model: Qwen3ASR, path: Path) -> None:
    t = model.cfg.text
    batch, seq = Dim("batch", min=1), Dim("seq", min=1)
    prefix_len, past_len = Dim("prefix_len", min=0), Dim("past_len", min=0)
    b, s, p0, p1 = 3, 5, 7, 4
    embeds = torch.randn(b, s, t.hidden_size)
    positions = torch.arange(p0 + p1, p0 + p1 + s).repeat(b, 1)
    cache, cache_shapes = [], []
    for _ in range(t.num_hidden_layers):
        prefix = torch.randn(1, t.num_key_value_heads, p0, t.head_dim)
        past = torch.randn(b, t.num_key_value_heads, p1, t.head_dim)
        cache += [prefix, prefix.clone(), past, past.clone()]
        cache_shapes += [{2: prefix_len}, {2: prefix_len}, {0: batch, 2: past_len}, {0: batch, 2: past_len}]
    cache_in, cache_out = decoder_cache_names(t.num_hidden_layers)
    export_graph(_DecoderGraph(model), (embeds, positions, *cache), path,
            ["inputs_embeds", "position_ids", *cache_in], [HIDDEN, *cache_out],
            ({0: batch, 1: seq}, {0: batch, 1: seq}, tuple(cache_shapes)))


def export_aligner_decoder(model: Qwen3ASR, path: Path) -> None:
    """inputs_embeds [B, S, H], position_ids [B, S], slots [B, K] (int64) -> slot_logits [B, K, classify_num]."""
    t = model.cfg.text
    batch, seq, slots = Dim("batch", min=1), Dim("seq", min=2), Dim("slots", min=1)
    embeds = torch.randn(3, 11, t.hidden_size)
    positions = torch.arange(11).repeat(3, 1)
    picks = torch.tensor([[1, 4, 6, 9, 10]] * 3)
    export_graph(_AlignerGraph(model), (embeds, positions, picks), path, ["inputs_embeds", "position_ids", "slots"],
            ["slot_logits"], ({0: batch, 1: seq}, {0: batch, 1: seq}, {0: batch, 1: slots}))
