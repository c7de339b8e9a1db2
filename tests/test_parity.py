"""Parity with the official implementation (qwen-asr 0.0.6, transformers backend, fp32, encoder windows
patched as in tests/reference/official_model.py) on random-weight checkpoints built with its own classes.

Per clip: log-mel max abs diff <= 1e-4, encoder output and every step's logits within 1e-3 of the
reference's largest magnitude, the prompt ids equal, and the greedy tokens identical up to the first
near-tie step of the reference (top-1/top-2 margin below NEAR_TIE of the logit scale), which must not
come early. Clips cover < 1 s (single unpadded chunk), a tail chunk of 5 frames, and > 8 s (T > 800,
two attention windows). With `tiny-b` the prompt is prefilled 32 tokens per graph call.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qwen_asr_edge import Transcriber
from qwen_asr_edge.audio import load_audio
from qwen_asr_edge.decoding import relative_margins
from qwen_asr_edge.export import export_checkpoint
from qwen_asr_edge.export.random_checkpoint import write_tokenizer
from qwen_asr_edge.features import log_mel_spectrogram

from .fixtures import REFERENCE_DIR, cached_dir, digest, run_reference, write_clip

SCRIPT = REFERENCE_DIR / "official_model.py"
CLIP_SECONDS = (0.3, 2.5, 4.05, 9.3)
MAX_NEW_TOKENS = 12
TOLERANCE = 1e-3
NEAR_TIE = 1e-4
# Context with camelCase words: the official fix_mistral_regex tokenization splits them differently.
CONTEXT = "Kitchen lights, HelloWorld, iPhone15 and McDonald's: the user's smartHome devices."
REQUESTS = {"plain": ("", None), "context": (CONTEXT, None), "english": ("", "English")}


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("parity_clips")
    return [write_clip(folder / f"clip{i}.wav", s, seed=10 + i) for i, s in enumerate(CLIP_SECONDS)]


def official_checkpoint(name: str) -> Path:
    def build(out: Path) -> None:
        run_reference("official_model.py", "build", out, "--config", name)
        write_tokenizer(out)
    return cached_dir(f"ckpt/official-{name}", digest(SCRIPT, name, Path(__file__).parents[1] / "export" / "random_checkpoint.py"), build)


def official_goldens(ckpt: Path, clips: list[Path], request: str) -> tuple[dict, list[dict]]:
    context, language = REQUESTS[request]
    args = ["goldens", ckpt, None, "--audio", *clips, "--context", context, "--max-new-tokens", MAX_NEW_TOKENS]
    if language:
        args += ["--language", language]

    def build(out: Path) -> None:
        run_reference("official_model.py", *[out if a is None else a for a in args])

    out = cached_dir("goldens/parity", digest(SCRIPT, ckpt.name, *clips, *map(str, args)), build)
    meta = json.loads((out / "goldens.json").read_text())
    arrays = [dict(np.load(out / f"{i}.npz", allow_pickle=False)) for i in range(len(clips))]
    return meta, arrays


@pytest.fixture(scope="module", params=["tiny-a", "tiny-b"])
def pair(request, tmp_path_factory):
    ckpt = official_checkpoint(request.param)
    out = tmp_path_factory.mktemp(request.param)
    fp32 = Transcriber(export_checkpoint(ckpt, out / "fp32", log=lambda m: None),
                       max_new_tokens=MAX_NEW_TOKENS)
    if request.param == "tiny-b":  # prompts of 20-140 tokens: prefill in several graph calls (runtime/decoder.py)
        fp32.decoder.chunk = 32
    return ckpt, fp32


def _rel_err(ours: np.ndarray, ref: np.ndarray) -> float:
    return float(np.abs(ours - ref).max() / np.abs(ref).max())


def _agreeing_steps(ref_logits: np.ndarray, near_tie: float = NEAR_TIE) -> int:
    """Steps before the reference's first near-tie (where rounding may legitimately flip argmax)."""
    ties = np.flatnonzero(relative_margins(ref_logits) < near_tie)
    return int(ties[0]) if len(ties) else len(ref_logits)


@pytest.mark.parametrize("request_name", sorted(REQUESTS))
def test_matches_official(pair, clips, request_name):
    ckpt, asr = pair
    context, language = REQUESTS[request_name]
    meta, goldens = official_goldens(ckpt, clips, request_name)
    sequences = set()
    for clip, gold, record in zip(clips, goldens, meta["clips"]):
        audio = load_audio(clip)
        mel = log_mel_spectrogram(audio)
        assert mel.shape == gold["mel"].shape
        assert np.abs(mel - gold["mel"]).max() <= 1e-4

        embeds = asr.encoder(mel)
        assert embeds.shape == gold["encoder"].shape
        assert _rel_err(embeds, gold["encoder"]) <= TOLERANCE

        ids = asr.tokenizer.prompt_ids(len(embeds), context, language)
        np.testing.assert_array_equal(ids, gold["prompt_ids"])

        generation = asr.generate(audio, context, language, keep_logits=True)
        ref_tokens = [int(t) for t in gold["tokens"] if t not in asr.eos_ids]
        steps = _agreeing_steps(gold["logits"])
        assert steps >= 4, f"{clip.name}: reference near-tie at step {steps}; pick another seed"
        assert list(generation.tokens[:steps]) == ref_tokens[:steps]
        for ours, ref in zip(generation.logits[:steps + 1], gold["logits"][:steps + 1]):  # same inputs up to here
            assert _rel_err(ours, ref) <= TOLERANCE
        if steps == len(gold["logits"]):
            raw = asr.tokenizer.decode(generation.tokens)
            assert raw == record["raw"]
        sequences.add(tuple(generation.tokens))
    assert len(sequences) == len(clips), "different clips must give different tokens (discriminating weights)"


def test_context_tokenization_uses_the_official_regex(pair):
    """The camelCase context really is tokenized differently with the official regex fix."""
    _, asr = pair
    from tokenizers import Tokenizer

    from qwen_asr_edge.export.tokenizer_export import QWEN2_REGEX
    fixed = asr.tokenizer.encode(CONTEXT)
    state = json.loads(asr.tokenizer.tokenizer.to_str())
    state["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = QWEN2_REGEX
    plain = Tokenizer.from_str(json.dumps(state)).encode(CONTEXT, add_special_tokens=False).ids
    assert fixed != plain
