"""Export-friendly PyTorch reference of Qwen3-ASR (audio encoder + Qwen3 decoder).

Module and parameter names equal the canonical checkpoint names (see checkpoint.py), so a state dict
loads with `load_state_dict`. The code is split the way the runtime runs it:

Audio encoder ("AuT"), for C <= 100 mel frames per 1 s chunk:
  conv stem   mel [N, 128, C] -> 3x (Conv2d 3x3 s2 p1 + GELU): [N, 480, 16, ceil(C/8)]
              -> flatten (channel*16 + freq) -> conv_out [N, t, d] -> + sinusoid PE[0:t] (restarts per chunk)
  transformer windows [B, W<=104, d] -> pre-LN layers (full attention inside a window only)
              -> ln_post -> proj1 -> GELU -> proj2 : [B, W, output_dim]
Decoder (Qwen3): RMSNorm, q/k-norm per head, 1-D RoPE (MRoPE with equal rows is exactly 1-D RoPE), GQA,
SwiGLU; logits = h @ E^T when the head is tied, else h @ lm_head^T.

Decoder cache layout (fixed in the model directory format):
  prefix K/V [1, kv, P0, hd]  shared by every hypothesis (the audio prompt), never copied per step
  past   K/V [B, kv, P1, hd]  per hypothesis (generated text, or a re-prefilled prompt tail)
  new tokens attend to all of prefix + past and causally to each other; `present` = past ++ new.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from qwen_asr_edge.errors import ModelDirError

from .config import AudioConfig, ModelConfig, TextConfig

MASK_BIAS = -1e4
"""Additive attention bias of a masked key: exp(score - 1e4) is exactly 0 in float32, as with -inf, and
the constant survives float16 (NPUs), where -inf or -3.4e38 turn scores into NaN."""


def sinusoids(length: int, channels: int, max_timescale: float = 10000.0) -> torch.Tensor:
    """PE[p, i] = sin(p * exp(-i ln(max_timescale)/(channels/2 - 1))) | cos(...): sin block then cos block."""
    increment = math.log(max_timescale) / (channels // 2 - 1)
    inv_timescales = torch.exp(-increment * torch.arange(channels // 2).float())
    scaled = torch.arange(length)[:, None] * inv_timescales[None, :]
    return torch.cat([torch.sin(scaled), torch.cos(scaled)], dim=1)


class AudioAttention(nn.Module):
    def __init__(self, d: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q_proj = nn.Linear(d, d)
        self.k_proj = nn.Linear(d, d)
        self.v_proj = nn.Linear(d, d)
        self.out_proj = nn.Linear(d, d)

    def forward(self, x: torch.Tensor, key_bias: torch.Tensor | None = None) -> torch.Tensor:
        """x [B, W, d]; key_bias [B, W] added to every query's scores (0 = real token, MASK_BIAS = padding),
        only for padded batches (training, static NPU windows)."""
        b, w, d = x.shape
        hd = d // self.heads

        def split(t: torch.Tensor) -> torch.Tensor:  # [B, W, d] -> [B, heads, W, hd]
            return t.reshape(b, w, self.heads, hd).transpose(1, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        scores = (q @ k.transpose(-1, -2)) * hd ** -0.5
        if key_bias is not None:
            scores = scores + key_bias[:, None, None, :]
        probs = torch.softmax(scores, dim=-1)
        return self.out_proj((probs @ v).transpose(1, 2).reshape(b, w, d))


class AudioEncoderLayer(nn.Module):
    def __init__(self, cfg: AudioConfig):
        super().__init__()
        d = cfg.d_model
        self.self_attn = AudioAttention(d, cfg.encoder_attention_heads)
        self.self_attn_layer_norm = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, cfg.encoder_ffn_dim)
        self.fc2 = nn.Linear(cfg.encoder_ffn_dim, d)
        self.final_layer_norm = nn.LayerNorm(d)

    def forward(self, h: torch.Tensor, key_bias: torch.Tensor | None = None) -> torch.Tensor:
        h = h + self.self_attn(self.self_attn_layer_norm(h), key_bias)
        return h + self.fc2(F.gelu(self.fc1(self.final_layer_norm(h))))


class AudioEncoder(nn.Module):
    def __init__(self, cfg: AudioConfig):
        super().__init__()
        ch = cfg.downsample_hidden_size
        freq_out = (((cfg.num_mel_bins + 1) // 2 + 1) // 2 + 1) // 2
        self.conv2d1 = nn.Conv2d(1, ch, 3, 2, padding=1)
        self.conv2d2 = nn.Conv2d(ch, ch, 3, 2, padding=1)
        self.conv2d3 = nn.Conv2d(ch, ch, 3, 2, padding=1)
        self.conv_out = nn.Linear(ch * freq_out, cfg.d_model, bias=False)
        self.layers = nn.ModuleList([AudioEncoderLayer(cfg) for _ in range(cfg.encoder_layers)])
        self.ln_post = nn.LayerNorm(cfg.d_model)
        self.proj1 = nn.Linear(cfg.d_model, cfg.d_model)
        self.proj2 = nn.Linear(cfg.d_model, cfg.output_dim)
        self.register_buffer("positional_embedding", sinusoids(cfg.max_source_positions, cfg.d_model), persistent=False)

    def conv_stem(self, mel_chunks: torch.Tensor) -> torch.Tensor:
        """[N, 128, C] mel chunks -> [N, t, d] frame embeddings with the per-chunk sinusoid added."""
        x = F.gelu(self.conv2d1(mel_chunks.unsqueeze(1)))
        x = F.gelu(self.conv2d2(x))
        x = F.gelu(self.conv2d3(x))
        n, c, f, t = x.shape
        x = self.conv_out(x.permute(0, 3, 1, 2).reshape(n, t, c * f))
        return x + self.positional_embedding[:t].unsqueeze(0)

    def transformer(self, windows: torch.Tensor, key_bias: torch.Tensor | None = None) -> torch.Tensor:
        """[B, W, d] attention windows -> [B, W, output_dim] LLM-width audio embeddings."""
        h = windows
        for layer in self.layers:
            h = layer(h, key_bias)
        return self.proj2(F.gelu(self.proj1(self.ln_post(h))))


class RMSNorm(nn.Module):
    def __init__(self, size: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


class TextAttention(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        self.q_proj = nn.Linear(cfg.hidden_size, self.heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(cfg.hidden_size, self.kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(cfg.hidden_size, self.kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.heads * self.head_dim, cfg.hidden_size, bias=False)
        self.q_norm = RMSNorm(self.head_dim, cfg.rms_norm_eps)
        self.k_norm = RMSNorm(self.head_dim, cfg.rms_norm_eps)

    def forward(self, x, cos, sin, causal_bias, prefix_k, prefix_v, past_k, past_v):
        """x [B, S, H]; cos/sin [B, 1, S, hd]; causal_bias [S, P1+S]; prefix [1, kv, P0, hd]; past [B, kv, P1, hd].

        Returns (out [B, S, H], present_k, present_v [B, kv, P1+S, hd]). Query heads are grouped as
        [B, kv, g, S, hd] against K/V [B, kv, 1, P, hd], so K/V are never repeated (head h uses kv head h // g)
        and at S = 1 every product is one query row against one head's cache, which ONNX Runtime's MLAS runs
        as a matrix-vector product without packing the cache, if the product's alpha is 1 (ORT folds a scale
        on q into it, hence the scale before RoPE). 0.6B int4 on 2 cores, one decode step against the
        [B, kv, g*S, hd] rows (`python -m benchmarks.graph_ab decode OLD NEW --prefix 145 800 2400`): 35.5 -> 33.1,
        53.5 -> 44.6 and 83.0 -> 73.3 ms with 145, 800 and 2400 cached tokens.
        """
        b, s, _ = x.shape
        g = self.heads // self.kv_heads
        q = self.q_norm(self.q_proj(x).reshape(b, s, self.heads, self.head_dim)).transpose(1, 2)
        k = self.k_norm(self.k_proj(x).reshape(b, s, self.kv_heads, self.head_dim)).transpose(1, 2)
        v = self.v_proj(x).reshape(b, s, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * self.head_dim ** -0.5  # before RoPE (linear): a scale at the product would become its alpha != 1
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        present_k = torch.cat([past_k, k], dim=2)
        present_v = torch.cat([past_v, v], dim=2)

        q = q.reshape(b, self.kv_heads, g, s, self.head_dim)
        scores_prefix = q @ prefix_k.unsqueeze(2).transpose(-1, -2)  # [B, kv, g, S, P0] (prefix broadcast over B)
        scores_past = q @ present_k.unsqueeze(2).transpose(-1, -2) + causal_bias  # [B, kv, g, S, P1+S]
        probs = torch.softmax(torch.cat([scores_prefix, scores_past], dim=-1), dim=-1)
        p0 = prefix_k.shape[2]
        out = probs[..., :p0] @ prefix_v.unsqueeze(2) + probs[..., p0:] @ present_v.unsqueeze(2)  # [B, kv, g, S, hd]
        out = out.reshape(b, self.heads, s, self.head_dim).transpose(1, 2).reshape(b, s, -1)
        return self.o_proj(out), present_k, present_v


class MLP(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.up_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.down_proj = nn.Linear(cfg.intermediate_size, cfg.hidden_size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.self_attn = TextAttention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.mlp = MLP(cfg)

    def forward(self, h, cos, sin, causal_bias, prefix_k, prefix_v, past_k, past_v):
        attn, present_k, present_v = self.self_attn(self.input_layernorm(h), cos, sin, causal_bias,
                                                    prefix_k, prefix_v, past_k, past_v)
        h = h + attn
        return h + self.mlp(self.post_attention_layernorm(h)), present_k, present_v


class TextModel(nn.Module):
    def __init__(self, cfg: TextConfig):
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList([DecoderLayer(cfg) for _ in range(cfg.num_hidden_layers)])
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        inv_freq = 1.0 / (cfg.rope_theta ** (torch.arange(0, cfg.head_dim, 2, dtype=torch.int64).float() / cfg.head_dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def rope(self, position_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        freqs = position_ids.float()[..., None] * self.inv_freq  # [B, S, hd/2]
        emb = torch.cat([freqs, freqs], dim=-1).unsqueeze(1)  # [B, 1, S, hd]
        return emb.cos(), emb.sin()

    @staticmethod
    def causal_bias(new: int, past: int, device: torch.device) -> torch.Tensor:
        """[new, past + new]: -inf where a key comes after the query (query i sits at past + i), else 0. Added to
        the scores once per layer: ONNX Runtime's Where, which masked_fill exports to, took 3.4x an Add's time on
        the aligner's [16, 1070, 1070] scores (105 vs 31 ms)."""
        query_pos = torch.arange(new, device=device) + past
        key_pos = torch.arange(past + new, device=device)
        zero = torch.zeros((), device=device)
        return torch.where(key_pos[None, :] > query_pos[:, None], zero - float("inf"), zero)

    def forward(self, inputs_embeds, position_ids, caches):
        """caches: per layer (prefix_k, prefix_v, past_k, past_v). Returns (normed hidden [B,S,H], presents)."""
        cos, sin = self.rope(position_ids)
        causal_bias = self.causal_bias(inputs_embeds.shape[1], caches[0][2].shape[2], inputs_embeds.device)
        h = inputs_embeds
        presents = []
        for layer, cache in zip(self.layers, caches):
            h, present_k, present_v = layer(h, cos, sin, causal_bias, *cache)
            presents += [present_k, present_v]
        return self.norm(h), presents


class Qwen3ASR(nn.Module):
    """The thinker: `audio_tower`, `model` and (untied or aligner) `lm_head`, named as in the checkpoint."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.audio_tower = AudioEncoder(cfg.audio)
        self.model = TextModel(cfg.text)
        head_rows = cfg.classify_num if cfg.kind == "aligner" else cfg.text.vocab_size
        self.lm_head = None if self.tied else nn.Linear(cfg.text.hidden_size, head_rows, bias=False)

    @property
    def tied(self) -> bool:
        return self.cfg.kind == "asr" and self.cfg.text.tie_word_embeddings

    def head_weight(self) -> torch.Tensor:
        return self.model.embed_tokens.weight if self.tied else self.lm_head.weight

    def load_checkpoint_state(self, state: dict[str, torch.Tensor]) -> None:
        """Load canonical tensors; a stored copy of a tied head is ignored (the official backends ignore it too)."""
        state = dict(state)
        if self.tied:
            state.pop("lm_head.weight", None)
        missing, unexpected = self.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ModelDirError(f"checkpoint does not fit its config.json: missing {missing[:5]}, unexpected {unexpected[:5]}")
