"""Beam search: the selection step against exact math, beam 1 == greedy, beam 4 never worse than greedy."""
import numpy as np
import pytest

from qwen_asr_edge import InputError, Transcriber
from qwen_asr_edge.beam import beam_search, beam_step_numpy, native_beam_step
from qwen_asr_edge.cli import main
from qwen_asr_edge.decoding import greedy_decode
from qwen_asr_edge.features import log_mel_spectrogram

from .fixtures import synth_clip, write_clip

LIMIT = 24


def _brute_force(logits, beam_scores, k):
    x = logits.astype(np.float64)
    scores = beam_scores[:, None] + x - np.log(np.exp(x).sum(axis=1))[:, None]
    order = sorted(range(scores.size), key=lambda i: (-scores.flat[i], i))[:k]
    return [divmod(i, logits.shape[1]) for i in order], scores.ravel()[order], scores


@pytest.mark.parametrize("batch,vocab,k", [(1, 7, 3), (4, 50, 8), (3, 20, 60), (2, 1000, 4)])
def test_beam_step_picks_the_best_continuations(batch, vocab, k):
    rng = np.random.default_rng(batch * vocab + k)
    logits = rng.standard_normal((batch, vocab)).astype(np.float32) * 3
    logits[:, :5] = np.round(logits[:, :5])  # exact ties inside and across rows
    beam_scores = -rng.uniform(0, 2, batch)
    beam_scores[-1] = beam_scores[0]
    implementations = [beam_step_numpy] + ([native_beam_step] if native_beam_step else [])  # native: see below
    pairs, expected, scores = _brute_force(logits, beam_scores, k)
    for step in implementations:
        rows, tokens, got, best, best_score = step(logits, beam_scores, k)
        assert list(zip(rows.tolist(), tokens.tolist())) == pairs, step
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
        np.testing.assert_array_equal(best, logits.argmax(axis=1))
        np.testing.assert_allclose(best_score, scores[np.arange(batch), best], rtol=0, atol=1e-9)


def test_native_and_numpy_beam_steps_agree_on_a_real_vocabulary(native):
    assert native_beam_step is native.beam_step
    rng = np.random.default_rng(5)
    logits = (rng.standard_normal((4, 151936)) * 4).astype(np.float32)
    beam_scores = -rng.uniform(0, 5, 4)
    ours, theirs = native_beam_step(logits, beam_scores, 8), beam_step_numpy(logits, beam_scores, 8)
    for index in (0, 1, 3):  # rows, tokens, argmax per row
        np.testing.assert_array_equal(ours[index], theirs[index])
    for index in (2, 4):  # scores: exp/log and summation order differ in the last bits only
        np.testing.assert_allclose(ours[index], theirs[index], rtol=0, atol=1e-9)


def _prompt(asr, seconds, seed):
    return asr.prompt_embeds(asr.encoder(log_mel_spectrogram(synth_clip(seconds, seed))))[1]


def _normalized_score(asr, prompt, tokens):
    """Length-normalized log-probability of `tokens` (plus the best EOS if they ended before the limit),
    by teacher forcing through the plain decoder."""
    logits = greedy_decode(asr.decoder, prompt, asr.eos_ids, LIMIT, keep_logits=True, forced=tokens).logits
    logp = [row - np.logaddexp.reduce(row.astype(np.float64)) for row in logits]
    total = sum(lp[t] for lp, t in zip(logp, tokens))
    finished = len(tokens) < LIMIT
    if finished:
        total += max(logp[len(tokens)][e] for e in asr.eos_ids)
    return total / (len(tokens) + finished)


@pytest.mark.parametrize("seconds,seed", [(0.6, 1), (2.3, 2), (4.1, 3), (9.4, 4)])
def test_beam_one_is_greedy_and_beam_four_is_never_worse(tiny_model, seconds, seed):
    asr = Transcriber(tiny_model)
    prompt = _prompt(asr, seconds, seed)
    greedy = greedy_decode(asr.decoder, prompt, asr.eos_ids, LIMIT).tokens
    assert beam_search(asr.decoder, prompt, asr.eos_ids, LIMIT, beam=1).tokens == greedy
    wide = beam_search(asr.decoder, prompt, asr.eos_ids, LIMIT, beam=4).tokens
    assert _normalized_score(asr, prompt, wide) >= _normalized_score(asr, prompt, greedy) - 1e-4


def test_beam_option(tiny_model, tmp_path, capsys):
    clip = write_clip(tmp_path / "a.wav", 1.7, seed=9)
    assert main(["transcribe", str(clip), "-m", str(tiny_model), "--beam", "3", "--max-new-tokens", "8"]) == 0
    assert capsys.readouterr().out.strip()
    with pytest.raises(InputError, match="beam width"):
        Transcriber(tiny_model, beam=0)
