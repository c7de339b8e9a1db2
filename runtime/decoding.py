"""Greedy decoding over the decoder graph.

The prompt is prefilled once and its K/V becomes the shared prefix cache; each generated token is fed
alone with its own growing cache, so a step copies only the generated part, never the prompt's K/V.
Stops at an EOS token (<|im_end|>, <|endoftext|>) or after `max_new_tokens`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .decoder import Decoder, KVCache


@dataclass(frozen=True)
class Generation:
    tokens: tuple[int, ...]
    logits: tuple[np.ndarray, ...]  # per step [V] float32, only when asked for (tests, diagnostics)


def relative_margins(logits: np.ndarray) -> np.ndarray:
    """[steps, V] -> per step (top-1 - top-2) / max|logit|: under about 1e-4, float rounding may flip argmax."""
    top2 = np.sort(logits, axis=-1)[..., -2:]
    return (top2[..., 1] - top2[..., 0]) / np.abs(logits).max(axis=-1)


def greedy_decode(decoder: Decoder, prompt_embeds: np.ndarray, eos_ids: tuple[int, ...], max_new_tokens: int,
                  keep_logits: bool = False, forced: Sequence[int] | None = None) -> Generation:
    """prompt_embeds [S, H] -> generated token ids (EOS not included).

    `forced` feeds these tokens instead of the argmax (teacher forcing, to compare two models' logits
    along the same history); decoding then runs for len(forced) + 1 steps.
    """
    length = prompt_embeds.shape[0]
    logits, prefix = decoder.run(prompt_embeds[None], np.arange(length)[None], decoder.empty_cache(), decoder.empty_cache())
    return greedy_continue(decoder, logits, prefix, decoder.empty_cache(), length, eos_ids, max_new_tokens,
                           keep_logits, forced)


def greedy_continue(decoder: Decoder, logits: np.ndarray, prefix: KVCache, past: KVCache, position: int,
                    eos_ids: tuple[int, ...], max_new_tokens: int, keep_logits: bool = False,
                    forced: Sequence[int] | None = None) -> Generation:
    """Greedy steps after a prefill: `logits` [1, V] of the prompt's last position, the prompt's K/V split
    into a shared `prefix` and a `past` that each step extends, `position` = prompt length."""
    if forced is not None:
        max_new_tokens = len(forced) + 1
    tokens: list[int] = []
    kept: list[np.ndarray] = []
    for step in range(max_new_tokens):
        if keep_logits:
            kept.append(logits[0])
        token = int(np.argmax(logits[0])) if forced is None or step == len(forced) else forced[step]
        if token in eos_ids:
            break
        tokens.append(token)
        if step + 1 == max_new_tokens:
            break
        logits, past = decoder.run(decoder.embed([[token]]), np.array([[position + step]]), prefix, past)
    return Generation(tuple(tokens), tuple(kept))
