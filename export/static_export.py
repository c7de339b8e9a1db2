"""Static-shape graphs for NPUs (QNN HTP, NNAPI): no dynamic dimension, If, Expand, Reciprocal or
zero-size tensor; masks and RoPE come from the host, and the decoder returns only the new tokens' K/V.

encoder_conv        mel_chunks [1, 128, 100] -> chunk_embeds [1, 13, d]      (every chunk padded to 1 s)
encoder_transformer windows [1, 104, d], key_bias [1, 104] -> audio_embeds [1, 104, output_dim]
decoder (S = 1), decoder_prefill (S = prefill_tokens):
    inputs_embeds [1, S, H], rope_cos / rope_sin [1, S, hd], attention_bias [1, 1, S, T + S],
    last_index [1] (int64), past.i.key/value [1, kv, T, hd] (a fixed buffer of T = kv_capacity slots)
    -> last_hidden [1, H] (final-norm output at position last_index; the exporter appends the head),
       new.i.key/value [1, kv, S, hd]
Attention of S new tokens: softmax(concat(q K_past^T, q K_new^T) / sqrt(hd) + bias) over T + S keys, with
query heads folded into the row axis ([1, kv, g S, hd]) so K/V are never repeated. The host keeps the
buffer: it writes the new K/V into free slots and un-masks them (runtime/static_decoder.py).
"""
from __future__ import annotations

import torch
from torch import nn

from qwen_asr_edge.encoder import CHUNK_FRAMES, CHUNK_TOKENS
from qwen_asr_edge.model_dir import static_cache_names
from qwen_asr_edge.quantize.head import HIDDEN

from .onnx_export import ConvStemGraph, TransformerGraph, export_graph
from .reference_model import Qwen3ASR, TextAttention, rotate_half

STATIC_OPSET = 21  # Gelu is an ONNX op from opset 20 (QNN has no Erf), and 16-bit Q/DQ from 21


def window_tokens(model: Qwen3ASR) -> int:
    """Tokens of one encoder attention window (104 for the released models: 8 chunks of 13)."""
    audio = model.cfg.audio
    return CHUNK_TOKENS * (audio.n_window_infer // (2 * audio.n_window))


def _rms_norm(norm: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """RMSNorm as w * x / sqrt(mean(x^2) + eps): Div and Sqrt, no Reciprocal (NNAPI lacks it)."""
    return norm.weight * (x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + norm.eps))


def _attention(attn: TextAttention, x, cos, sin, bias, past_k, past_v):
    s = x.shape[1]
    g = attn.heads // attn.kv_heads
    q = _rms_norm(attn.q_norm, attn.q_proj(x).reshape(1, s, attn.heads, attn.head_dim)).transpose(1, 2)
    k = _rms_norm(attn.k_norm, attn.k_proj(x).reshape(1, s, attn.kv_heads, attn.head_dim)).transpose(1, 2)
    v = attn.v_proj(x).reshape(1, s, attn.kv_heads, attn.head_dim).transpose(1, 2)
    q = q * cos + rotate_half(q) * sin
    k = k * cos + rotate_half(k) * sin
    q = q.reshape(1, attn.kv_heads, g * s, attn.head_dim) * attn.head_dim ** -0.5
    scores = torch.cat([q @ past_k.transpose(-1, -2), q @ k.transpose(-1, -2)], dim=-1)  # [1, kv, gS, T+S]
    probs = torch.softmax(scores + torch.cat([bias] * g, dim=2), dim=-1)
    t = past_k.shape[2]
    out = probs[..., :t] @ past_v + probs[..., t:] @ v
    out = out.reshape(1, attn.heads, s, attn.head_dim).transpose(1, 2).reshape(1, s, -1)
    return attn.o_proj(out), k, v


class _StaticDecoderGraph(nn.Module):
    def __init__(self, model: Qwen3ASR):
        super().__init__()
        self.model = model

    def forward(self, inputs_embeds, rope_cos, rope_sin, attention_bias, last_index, *cache):
        text = self.model.model
        cos, sin = rope_cos.unsqueeze(1), rope_sin.unsqueeze(1)
        h, new = inputs_embeds, []
        for i, layer in enumerate(text.layers):
            attn, k, v = _attention(layer.self_attn, _rms_norm(layer.input_layernorm, h), cos, sin, attention_bias,
                                    cache[2 * i], cache[2 * i + 1])
            h = h + attn
            h = h + layer.mlp(_rms_norm(layer.post_attention_layernorm, h))
            new += [k, v]
        last = torch.index_select(_rms_norm(text.norm, h), 1, last_index)
        return (last.reshape(1, -1), *new)


def export_static_conv_stem(model: Qwen3ASR, path) -> None:
    mel = torch.randn(1, model.cfg.audio.num_mel_bins, CHUNK_FRAMES)
    export_graph(ConvStemGraph(model.audio_tower), (mel,), path, ["mel_chunks"], ["chunk_embeds"], None,
                 STATIC_OPSET)


def export_static_audio_transformer(model: Qwen3ASR, path) -> None:
    windows = torch.randn(1, window_tokens(model), model.cfg.audio.d_model)
    export_graph(TransformerGraph(model.audio_tower), (windows, torch.zeros(1, windows.shape[1])), path, ["windows", "key_bias"],
                 ["audio_embeds"], None, STATIC_OPSET)


def static_decoder_io(num_layers: int) -> tuple[list[str], list[str]]:
    """Input and output names of the static decoder graphs."""
    cache_in, cache_out = static_cache_names(num_layers)
    return (["inputs_embeds", "rope_cos", "rope_sin", "attention_bias", "last_index", *cache_in],
            [HIDDEN, *cache_out])


def export_static_decoder(model: Qwen3ASR, path, tokens: int, kv_capacity: int) -> None:
    """The decoder over `tokens` new tokens against a `kv_capacity`-slot cache buffer."""
    t = model.cfg.text
    args = [torch.randn(1, tokens, t.hidden_size), torch.randn(1, tokens, t.head_dim),
            torch.randn(1, tokens, t.head_dim), torch.zeros(1, 1, tokens, kv_capacity + tokens),
            torch.tensor([tokens - 1])]
    args += [torch.randn(1, t.num_key_value_heads, kv_capacity, t.head_dim) for _ in range(2 * t.num_hidden_layers)]
    inputs, outputs = static_decoder_io(t.num_hidden_layers)
    export_graph(_StaticDecoderGraph(model), tuple(args), path, inputs, outputs, None, STATIC_OPSET)
