"""Beam search over the decoder graph, with the greedy path kept in the candidate pool.

The prompt is prefilled once (batch 1) and its K/V is the prefix cache shared by every hypothesis; each
hypothesis owns only the K/V of its generated tokens (the `past` cache, batch = live hypotheses), which is
reordered along the batch axis when hypotheses are selected. Scores are sums of log-probabilities;
hypotheses are ranked by score / length ** length_penalty, the length counting the EOS token.

The greedy hypothesis (argmax at every step) always stays live until it ends, so the returned
hypothesis scores at least as well as plain greedy decoding by construction; with beam = 1 the search is
exactly greedy decoding.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._native_loader import native_module
from .decoder import Decoder, KVCache
from .decoding import Generation

native_beam_step = getattr(native_module(), "beam_step", None)  # None: no extension, or one built before it


def beam_step_numpy(logits: np.ndarray, beam_scores: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """The k best (row, token) continuations of score beam_scores[r] + log_softmax(logits)[r, v].

    Returns rows, tokens, scores (best first; ties: smaller flat index first) and each row's argmax token
    and its score. Same contract and numbers as the native `beam_step`.
    """
    x = logits.astype(np.float64)
    row_max = x.max(axis=1)
    lse = row_max + np.log(np.exp(x - row_max[:, None]).sum(axis=1))
    scores = beam_scores[:, None] + x - lse[:, None]
    flat = scores.ravel()
    pool = np.argpartition(-flat, k - 1)[:k] if k < flat.size else np.arange(flat.size)
    threshold = flat[pool].min()
    pool = np.flatnonzero(flat >= threshold)  # every tie of the k-th score, then a stable order
    chosen = pool[np.lexsort((pool, -flat[pool]))][:k]
    best = logits.argmax(axis=1)
    rows = np.arange(len(logits))
    return chosen // logits.shape[1], chosen % logits.shape[1], flat[chosen], best, scores[rows, best]


def beam_step(logits: np.ndarray, beam_scores: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    logits = np.ascontiguousarray(logits, dtype=np.float32)
    beam_scores = np.ascontiguousarray(beam_scores, dtype=np.float64)
    if native_beam_step is not None:
        return native_beam_step(logits, beam_scores, k)
    return beam_step_numpy(logits, beam_scores, k)


@dataclass(frozen=True)
class Hypothesis:
    tokens: tuple[int, ...]
    score: float  # sum of log-probabilities, EOS included when finished
    finished: bool

    def normalized(self, length_penalty: float) -> float:
        return self.score / max(len(self.tokens) + self.finished, 1) ** length_penalty


def _select(cache: KVCache, rows: list[int]) -> KVCache:
    return KVCache(tuple(k[rows] for k in cache.keys), tuple(v[rows] for v in cache.values))


def beam_search(decoder: Decoder, prompt_embeds: np.ndarray, eos_ids: tuple[int, ...], max_new_tokens: int,
                beam: int = 4, length_penalty: float = 1.0) -> Generation:
    """prompt_embeds [S, H] -> the best hypothesis's tokens (EOS not included).

    Each step keeps the `beam` best non-EOS continuations of the 2 * beam best candidates, and collects
    EOS candidates ranked among the first `beam` as finished. The search ends once `beam` hypotheses have
    finished and the greedy one is among them (or at max_new_tokens, when the live ones compete too).
    """
    if max_new_tokens < 1:
        return Generation((), ())
    length = prompt_embeds.shape[0]
    logits, prefix = decoder.run(prompt_embeds[None], np.arange(length)[None], decoder.empty_cache(), decoder.empty_cache())
    past = decoder.empty_cache()
    live = [Hypothesis((), 0.0, False)]
    greedy: int | None = 0  # index of the greedy hypothesis in `live`, None once it has finished
    done: list[Hypothesis] = []
    for step in range(max_new_tokens):
        rows, tokens, scores, row_best, row_best_score = beam_step(
            logits, np.array([h.score for h in live]), min(2 * beam, logits.size))
        candidates = list(zip(rows.tolist(), tokens.tolist(), scores.tolist()))
        greedy_pick = None if greedy is None else (greedy, int(row_best[greedy]))
        if greedy_pick is not None and greedy_pick not in {c[:2] for c in candidates}:
            candidates.append((*greedy_pick, float(row_best_score[greedy])))
        next_live: list[Hypothesis] = []
        next_rows: list[int] = []
        next_greedy = None
        for rank, (r, t, s) in enumerate(candidates):
            is_greedy = (r, t) == greedy_pick
            if t in eos_ids:
                if rank < beam or is_greedy:
                    done.append(Hypothesis(live[r].tokens, s, True))
            elif len(next_live) < beam or is_greedy:
                next_greedy = len(next_live) if is_greedy else next_greedy
                next_live.append(Hypothesis(live[r].tokens + (t,), s, False))
                next_rows.append(r)
        if len(next_live) > beam:  # the greedy one was kept beyond the beam: drop the weakest other one
            weakest = min((i for i in range(len(next_live)) if i != next_greedy), key=lambda i: next_live[i].score)
            del next_live[weakest], next_rows[weakest]
            next_greedy -= next_greedy > weakest
        live, greedy = next_live, next_greedy
        if not live or (greedy is None and len(done) >= beam):
            break
        if step + 1 == max_new_tokens:
            done += live  # out of tokens: unfinished hypotheses compete too
            break
        ids = np.array([[h.tokens[-1]] for h in live])
        logits, past = decoder.run(decoder.embed(ids), np.full((len(live), 1), length + step), prefix,
                                   _select(past, next_rows))
    best = max(done, key=lambda h: h.normalized(length_penalty))
    return Generation(best.tokens, ())
