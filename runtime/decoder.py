"""Decoder driver: host-side token embeddings + the decoder graph with its two-level KV cache.

The graph takes `inputs_embeds` [B, S, H] and `position_ids` [B, S], a shared prefix cache
(prefix.i.key/value [1, kv, P0, hd], e.g. the audio prompt, computed once) and a per-hypothesis cache
(past.i.key/value [B, kv, P1, hd]); it returns the last position's logits [B, V] and present.i.key/value
= past ++ new [B, kv, P1 + S, hd]. Positions are explicit, so any prefix can be reused as is.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnxruntime as ort

from .embedding import EmbeddingTable


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
                 head_dim: int):
        self.session = session
        self.embed = embed  # token ids [...] -> float32 embeddings [..., H]
        self.num_layers, self.kv_heads, self.head_dim = num_layers, kv_heads, head_dim

    def empty_cache(self, batch: int = 1) -> KVCache:
        empty = np.zeros((batch, self.kv_heads, 0, self.head_dim), dtype=np.float32)
        return KVCache((empty,) * self.num_layers, (empty,) * self.num_layers)

    def run(self, embeds: np.ndarray, positions: np.ndarray, prefix: KVCache, past: KVCache) -> tuple[np.ndarray, KVCache]:
        """One graph call: (last-position logits [B, V], present cache [B, kv, P1 + S, hd])."""
        feeds = {"inputs_embeds": np.ascontiguousarray(embeds, dtype=np.float32),
                 "position_ids": np.ascontiguousarray(positions, dtype=np.int64)}
        for i in range(self.num_layers):
            feeds[f"prefix.{i}.key"], feeds[f"prefix.{i}.value"] = prefix.keys[i], prefix.values[i]
            feeds[f"past.{i}.key"], feeds[f"past.{i}.value"] = past.keys[i], past.values[i]
        outputs = self.session.run(None, feeds)
        return outputs[0], KVCache(tuple(outputs[1::2]), tuple(outputs[2::2]))
