"""Host side of the static-shape (NPU) decoder graphs: the KV buffer, the masks and RoPE.

Same interface as `decoder.Decoder` (`run(embeds, positions, prefix, past)` -> last logits and the present
cache), so greedy decoding, beam search and streaming drive either one. Per call and hypothesis the host
  - lays prefix ++ past into a buffer of T = kv_capacity slots [1, kv, T, hd] (slots past the end masked),
  - feeds the new tokens in blocks of S (the prefill graph's S for prompts, the S = 1 step graph for single
    tokens), padding the last block, with
      rope_cos/sin [1, S, hd]   cos/sin(position * inv_freq) duplicated over the two halves (1-D RoPE),
      attention_bias [1, 1, S, T + S]  0 where a block row may attend (filled slots; new tokens up to and
                                       including itself), mask_bias elsewhere,
      last_index                the last real row of the block (its logits are returned),
  - writes each block's new K/V into the next free slots.
Positions are explicit, as in the dynamic graph, so prefixes can be reused as they are. The buffer is laid
out anew on every call (a copy of T slots per layer), which keeps the generic interface; an app that only
decodes forward keeps one buffer and binds it in place.
"""
from __future__ import annotations

import numpy as np
import onnxruntime as ort

from .decoder import KVCache
from .embedding import EmbeddingTable
from .errors import InputError


class StaticDecoder:
    def __init__(self, step: ort.InferenceSession, prefill: ort.InferenceSession, embed: EmbeddingTable,
                 num_layers: int, kv_heads: int, head_dim: int, static: dict):
        self.step, self.prefill = step, prefill
        self.embed = embed
        self.num_layers, self.kv_heads, self.head_dim = num_layers, kv_heads, head_dim
        self.capacity, self.block = static["kv_capacity"], static["prefill_tokens"]
        self.mask_bias = np.float32(static["mask_bias"])
        exponent = np.arange(0, head_dim, 2, dtype=np.float32) / np.float32(head_dim)
        self.inv_freq = (np.float32(1.0) / np.power(np.float32(static["rope_theta"]), exponent)).astype(np.float32)

    def empty_cache(self, batch: int = 1) -> KVCache:
        empty = np.zeros((batch, self.kv_heads, 0, self.head_dim), dtype=np.float32)
        return KVCache((empty,) * self.num_layers, (empty,) * self.num_layers)

    def run(self, embeds: np.ndarray, positions: np.ndarray, prefix: KVCache, past: KVCache) -> tuple[np.ndarray, KVCache]:
        """(last-position logits [B, V], present cache = past ++ new [B, kv, P1 + S, hd]), one row at a time."""
        logits, keys, values = [], [], []
        for b in range(embeds.shape[0]):
            row_logits, row_keys, row_values = self._run_row(embeds[b], positions[b], prefix, past, b)
            logits.append(row_logits)
            keys.append(row_keys)
            values.append(row_values)
        stack = lambda rows: tuple(np.concatenate([r[i] for r in rows]) for i in range(self.num_layers))
        return np.concatenate(logits), KVCache(stack(keys), stack(values))

    def _run_row(self, embeds: np.ndarray, positions: np.ndarray, prefix: KVCache, past: KVCache, b: int):
        p0, p1, s = prefix.length, past.length, len(embeds)
        if p0 + p1 + s > self.capacity:
            raise InputError(f"prompt and generated text need {p0 + p1 + s} cache slots; this static model has "
                             f"{self.capacity} (export it with a larger --kv-capacity or use shorter windows)")
        shape = (1, self.kv_heads, self.capacity, self.head_dim)
        buffers = []
        for i in range(self.num_layers):
            pair = (np.zeros(shape, np.float32), np.zeros(shape, np.float32))
            for buffer, pre, own in zip(pair, (prefix.keys[i], prefix.values[i]), (past.keys[i], past.values[i])):
                buffer[0, :, :p0] = pre[0]
                buffer[0, :, p0:p0 + p1] = own[b]
            buffers += pair
        session, size = (self.step, 1) if s == 1 else (self.prefill, self.block)
        filled = p0 + p1
        for start in range(0, s, size):
            count = min(s - start, size)
            logits = self._run_block(session, size, embeds[start:start + count], positions[start:start + count],
                                     buffers, filled)
            filled += count
        end = p0 + p1 + s
        return (logits, [buffers[2 * i][:, :, p0:end] for i in range(self.num_layers)],
                [buffers[2 * i + 1][:, :, p0:end] for i in range(self.num_layers)])

    def _run_block(self, session: ort.InferenceSession, size: int, embeds: np.ndarray, positions: np.ndarray,
                   buffers: list[np.ndarray], filled: int) -> np.ndarray:
        """One call of a graph over S = `size` rows holding `count` <= S new tokens; writes their K/V at
        slots filled..filled+count-1 and returns the logits [1, V] of the last real one."""
        count = len(embeds)
        padded = np.zeros((1, size, embeds.shape[1]), np.float32)
        padded[0, :count] = embeds
        angles = np.zeros((size, len(self.inv_freq)), np.float32)
        angles[:count] = np.asarray(positions, np.float32)[:, None] * self.inv_freq
        angles = np.concatenate([angles, angles], axis=-1)[None]
        bias = np.full((1, 1, size, self.capacity + size), self.mask_bias, np.float32)
        bias[0, 0, :, :filled] = 0.0
        bias[0, 0, :, self.capacity:] = np.triu(np.full((size, size), self.mask_bias, np.float32), 1)
        bias[0, 0, :, self.capacity + count:] = self.mask_bias  # padding rows still see the real ones
        feeds = {"inputs_embeds": padded, "rope_cos": np.cos(angles), "rope_sin": np.sin(angles),
                 "attention_bias": bias, "last_index": np.array([count - 1], np.int64)}
        for i in range(self.num_layers):
            feeds[f"past.{i}.key"], feeds[f"past.{i}.value"] = buffers[2 * i], buffers[2 * i + 1]
        outputs = session.run(None, feeds)
        for buffer, new in zip(buffers, outputs[1:]):
            buffer[:, :, filled:filled + count] = new[:, :, :count]
        return outputs[0]
