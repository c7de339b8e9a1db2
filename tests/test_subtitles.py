"""Subtitles from word timestamps: cue rules, and SRT/WebVTT output that subtitle parsers accept."""
import io
import json
from datetime import timedelta

import pytest
import srt
import webvtt

from qwen_asr_edge.aligner import Word
from qwen_asr_edge.cli import main
from qwen_asr_edge.subtitles import LINE_CHARS, MAX_CHARS, MAX_SECONDS, build_cues, to_srt, to_vtt, word_spans
from qwen_asr_edge.words import split_words

from .fixtures import REPO
from .test_aligner import official_aligner

TEXT = ("Turn off the kitchen lights. Then set a timer for ten minutes, please! Is the stop-me button "
        "in the hall? Call mom at five and remind me to water the plants in the living room tomorrow morning")


def _timed(text: str, language: str = "English", step: float = 0.4, pause_after: int | None = None) -> list[Word]:
    words, t = [], 0.5
    for i, w in enumerate(split_words(text, language)):
        words.append(Word(w, round(t, 3), round(t + step * 0.8, 3)))
        t += step + (2.0 if i == pause_after else 0.0)
    return words


def test_cues_follow_sentences_length_and_pauses():
    words = _timed(TEXT, pause_after=20)
    cues = build_cues(TEXT, words)
    assert cues[0].text == "Turn off the kitchen lights."
    assert cues[1].text.startswith("Then set a timer") and cues[1].text.endswith("please!")
    assert "stop-me" in " ".join(c.text for c in cues)  # the transcript's own text, punctuation kept
    for cue in cues:
        assert len(cue.text.replace("\n", " ")) <= MAX_CHARS and cue.end - cue.start <= MAX_SECONDS
        assert all(len(line) <= MAX_CHARS for line in cue.text.split("\n")) and cue.text.count("\n") <= 1
        assert cue.start <= cue.end
    starts = [c.start for c in cues]
    assert starts == sorted(starts) and cues[0].start == words[0].start and cues[-1].end == words[-1].end
    pause_word = words[21]  # the word after the 2 s pause opens a cue
    assert pause_word.start in starts
    long_cues = [c for c in cues if len(c.text) > LINE_CHARS]
    assert long_cues and all("\n" in c.text for c in long_cues)


def test_chinese_cues_and_spans():
    text = "打开厨房的灯。设置一个十分钟的定时器！"
    words = _timed(text, "Chinese", step=0.25)
    assert [text[a:b] for a, b in word_spans(text, words)] == [w.text for w in words]
    cues = build_cues(text, words)
    assert [c.text for c in cues] == ["打开厨房的灯。", "设置一个十分钟的定时器！"]


def test_parsers_accept_our_files():
    cues = build_cues(TEXT, _timed(TEXT, pause_after=20))
    parsed = list(srt.parse(to_srt(cues)))
    assert [p.content for p in parsed] == [c.text for c in cues]
    assert [p.start for p in parsed] == [timedelta(seconds=c.start) for c in cues]
    vtt = webvtt.from_buffer(io.StringIO(to_vtt(cues)))
    assert [c.text for c in vtt] == [c.text for c in cues]
    seconds = [round(sum(float(x) * m for x, m in zip(cap.start.split(":"), (3600, 60, 1))), 3) for cap in vtt]
    assert seconds == [c.start for c in cues]


@pytest.fixture(scope="module")
def aligner_dir(tmp_path_factory):
    from qwen_asr_edge.export import export_checkpoint
    return export_checkpoint(official_aligner("tiny-a"), tmp_path_factory.mktemp("al") / "aligner", log=lambda m: None)


def test_cli_timestamps_and_align(aligner_dir, tmp_path, capsys):
    sample = str(REPO / "samples" / "en_office_temperature.wav")
    assert main(["transcribe", sample, "--aligner", str(aligner_dir), "-f", "json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert [w["text"] for w in record["words"]] == record["text"].split()
    assert main(["transcribe", sample, "--aligner", str(aligner_dir), "-f", "srt"]) == 0
    assert list(srt.parse(capsys.readouterr().out))
    assert main(["transcribe", sample, "--aligner", str(aligner_dir), "-f", "vtt", "-o", str(tmp_path / "subs")]) == 0
    assert webvtt.read(str(tmp_path / "subs" / "en_office_temperature.vtt")).captions
    assert main(["align", sample, "--text", "set the office temperature", "-l", "en", "-m", str(aligner_dir)]) == 0
    aligned = json.loads(capsys.readouterr().out)
    assert [w["text"] for w in aligned["words"]] == ["set", "the", "office", "temperature"]
    assert main(["transcribe", sample, sample, "-f", "srt", "--aligner", str(aligner_dir)]) == 2
    assert "need --output-dir" in capsys.readouterr().err
