"""Forced aligner: parity with the official Qwen3ForcedAligner on random-weight checkpoints built with its
classes (identical word times on every clip), the timestamp repair and word splitting against the
official functions' documented behaviour."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from qwen_asr_edge import ModelDirError
from qwen_asr_edge.aligner import Aligner, repair_timestamps
from qwen_asr_edge.errors import InputError
from qwen_asr_edge.export import export_checkpoint
from qwen_asr_edge.export.random_checkpoint import write_tokenizer
from qwen_asr_edge.words import split_words

from .fixtures import REFERENCE_DIR, REPO, cached_dir, digest, run_reference, write_clip

SCRIPTS = (REFERENCE_DIR / "official_aligner.py", REFERENCE_DIR / "official_model.py")
CASES = [  # (clip seconds or a sample, text, language)
    (2.5, "Hello there, world! Don't stop-me now 2024.", "English"),
    (9.3, "turn off the kitchen lights and set a timer for ten minutes please", "English"),
    (5.2, "turn off the kitchen lights and set a timer for ten minutes please", "English"),  # same text, other audio
    (0.7, "ok", "English"),
    (4.1, "我用iPhone15拍照, OK?", "Chinese"),
    ("zh_timer.wav", "设置一个六十三分钟的定时器", "Chinese"),
    ("en_office_temperature.wav", "set the office temperature to twenty four degrees", "English"),
]
CLASSES = {"tiny-a": 300, "tiny-b": 500}


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("aligner_clips")
    return [REPO / "samples" / c if isinstance(c, str) else write_clip(folder / f"clip{i}.wav", c, seed=30 + i)
            for i, (c, _, _) in enumerate(CASES)]


def official_aligner(name: str) -> Path:
    def build(out: Path) -> None:
        run_reference("official_aligner.py", "build", out, "--config", name, "--classes", CLASSES[name])
        write_tokenizer(out)
    return cached_dir(f"ckpt/official-aligner-{name}", digest(*SCRIPTS, name, CLASSES[name],
                                                              REPO / "export" / "random_checkpoint.py"), build)


def official_alignments(ckpt: Path, clips: list[Path]) -> list[dict]:
    texts, languages = [t for _, t, _ in CASES], [lang for _, _, lang in CASES]

    def build(out: Path) -> None:
        run_reference("official_aligner.py", "align", ckpt, out / "words.json", "--audio", *clips, "--text", *texts,
                      "--language", *languages)
    out = cached_dir("goldens/aligner", digest(*SCRIPTS, ckpt.name, *clips, *texts, *languages), build)
    return json.loads((out / "words.json").read_text())


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_matches_official_aligner(name, clips, tmp_path):
    ckpt = official_aligner(name)
    aligner = Aligner(export_checkpoint(ckpt, tmp_path / "aligner", log=lambda m: None))
    goldens = official_alignments(ckpt, clips)
    times = []
    for clip, (_, text, language), gold in zip(clips, CASES, goldens):
        words = aligner.align(clip, text, language)
        assert [(w.text, w.start, w.end) for w in words] == [(g["text"], g["start"], g["end"]) for g in gold["words"]], clip
        times.append([(w.start, w.end) for w in words])
    assert times[1] != times[2], "the random weights must give the same text different times on different audio"
    assert len({t for clip_times in times for t in clip_times}) >= 10, "the slots must not collapse to a few classes"


def test_aligner_refusals(tmp_path, clips, tiny_model):
    aligner = Aligner(export_checkpoint(official_aligner("tiny-a"), tmp_path / "aligner", log=lambda m: None))
    with pytest.raises(InputError, match="unknown language"):
        aligner.align(clips[0], "hello", "Klingon")
    assert aligner.align(clips[0], "?!", "English") == ()
    with pytest.raises(ModelDirError, match="expected 'aligner'"):
        Aligner(tiny_model)


def test_repair_timestamps_as_the_official_code():
    # Examples of the official fix_timestamp (model notes, section 6.3).
    assert repair_timestamps([80, 4000, 160, 240]) == [80, 80, 160, 240]
    assert repair_timestamps([500, 80, 160]) == [80, 80, 160]
    assert repair_timestamps([80, 160, 240, 320, 0, 0, 0, 800, 880]) == [80, 160, 240, 320, 440, 560, 680, 800, 880]
    assert repair_timestamps([]) == [] and repair_timestamps([240.0]) == [240]
    assert repair_timestamps([0, 0, 0, 900, 1000]) == [0, 0, 0, 900, 1000]


def test_words_as_the_official_splitter():
    assert split_words("Hello, world! Don't stop-me now 2024.", "English") == \
        ["Hello", "world", "Don't", "stopme", "now", "2024"]
    assert split_words("我用iPhone15拍照, OK?", "Chinese") == ["我", "用", "iPhone15", "拍", "照", "OK"]
    assert split_words("  ...  ", "English") == []
