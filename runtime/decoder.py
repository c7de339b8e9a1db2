"""Decoder driver: host-side token embeddings + the decoder graph with its two-level KV cache.

The graph takes `inputs_embeds` [B, S, H] and `position_ids` [B, S], a shared prefix cache
(prefix.i.key/value [1, kv, P0, hd], e.g. the audio prompt, computed once) and a per-hypothesis cache
(past.i.key/value [B, kv, P1, hd]); it returns the last position's logits [B, V] and present.i.key/value
= past ++ new [B, kv, P1 + S, hd]. Positions are explicit, so any prefix can be reused as is.

Long inputs run as several graph calls of at most PREFILL_CHUNK new tokens, each extending `past`: the same
causal attention, without the [S, P0 + P1 + S] score matrices of one call. 0.6B int4, a 795-token prompt
(60 s of audio in one window): prefill 6.6 -> 5.6 s, peak RSS 1277 -> 1223 MiB on this 2-core machine.

A model may add a prefill session (the same graph at another precision, `quantize --quant fast`): calls with
at least PREFILL_ROWS new token rows (batch x tokens) run there, the others on the decoder session. The two
share the cache format, so either continues the other's cache.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnxruntime as ort

from .embedding import EmbeddingTable

PREFILL_CHUNK = 256  # new tokens per graph call; 128-400 measured alike, one 795-token call 18 % slower
# 0.6B on 2 cores, one call after a 175-token cache, ms (int4 decoder / w8a8 prefill graph): 1 row 32 / 43,
# 4 rows 57 / 57, 8 rows 76 / 67, 16 rows 106 / 84, 32 rows 195 / 146.
PREFILL_ROWS = 6


@dataclass(frozen=True)
class KVCache:
    """Per-layer keys and values, each [batch, kv_heads, length, head_dim] float32."""
    keys: tuple[np.ndarray, ...]
    values: tuple[np.ndarray, ...]

    @property
    def length(self) -> int:
        return self.keys[0].shape[2]


class Decoder:
    def __init__(self, session: ort.InferenceSession, embed: EmbeddingTable, num_layers: int, kv_heads: int,
                 head_dim: int, prefill_session: ort.InferenceSession | None = None):
        self.session = session
        self.prefill_session = prefill_session
        self.embed = embed  # token ids [...] -> float32 embeddings [..., H]
        self.num_layers, self.kv_heads, self.head_dim = num_layers, kv_heads, head_dim
        self.chunk = PREFILL_CHUNK

    def empty_cache(self, batch: int = 1) -> KVCache:
        empty = np.zeros((batch, self.kv_heads, 0, self.head_dim), dtype=np.float32)
        return KVCache((empty,) * self.num_layers, (empty,) * self.num_layers)

    def run(self, embeds: np.ndarray, positions: np.ndarray, prefix: KVCache, past: KVCache) -> tuple[np.ndarray, KVCache]:
        """(last-position logits [B, V], present cache [B, kv, P1 + S, hd]), in calls of at most `chunk` tokens."""
        while embeds.shape[1] > self.chunk:
            _, past = self._call(embeds[:, :self.chunk], positions[:, :self.chunk], prefix, past)
            embeds, positions = embeds[:, self.chunk:], positions[:, self.chunk:]
        return self._call(embeds, positions, prefix, past)

    def session_for(self, rows: int) -> ort.InferenceSession:
        """The session that runs a call of `rows` new token rows."""
        return self.prefill_session if self.prefill_session is not None and rows >= PREFILL_ROWS else self.session

    def _call(self, embeds: np.ndarray, positions: np.ndarray, prefix: KVCache, past: KVCache) -> tuple[np.ndarray, KVCache]:
        feeds = {"inputs_embeds": np.ascontiguousarray(embeds, dtype=np.float32),
                 "position_ids": np.ascontiguousarray(positions, dtype=np.int64)}
        for i in range(self.num_layers):
            feeds[f"prefix.{i}.key"], feeds[f"prefix.{i}.value"] = prefix.keys[i], prefix.values[i]
            feeds[f"past.{i}.key"], feeds[f"past.{i}.value"] = past.keys[i], past.values[i]
        outputs = self.session_for(embeds.shape[0] * embeds.shape[1]).run(None, feeds)
        return outputs[0], KVCache(tuple(outputs[1::2]), tuple(outputs[2::2]))
