"""Subtitle cues (SRT, WebVTT) from word timestamps.

The aligner's words carry no punctuation, so each word is found again in the transcript (in order,
skipping the characters the aligner drops), and a cue shows the transcript's own text. A cue ends after
sentence punctuation, before a pause over MAX_GAP, or before it would exceed MAX_CHARS characters or
MAX_SECONDS; its text is wrapped into at most two lines of about LINE_CHARS.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .aligner import Word
from .words import clean

SENTENCE_END = tuple(".!?。！？…")
MAX_CHARS = 84
LINE_CHARS = 42
MAX_SECONDS = 7.0
MAX_GAP = 1.0


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def word_spans(text: str, words: Sequence[Word]) -> list[tuple[int, int]]:
    """[start, end) of every word in `text`, found in order; a word that cannot be found gets an empty span
    at the current position."""
    spans, cursor = [], 0
    for word in words:
        first = text.find(word.text[:1], cursor) if word.text else -1
        if first < 0:
            spans.append((cursor, cursor))
            continue
        position, matched = first, 0
        while position < len(text) and matched < len(word.text):
            if text[position] == word.text[matched]:
                matched += 1
            elif clean(text[position]):  # a kept character that is not the word's: stop here
                break
            position += 1
        spans.append((first, position))
        cursor = position
    return spans


def build_cues(text: str, words: Sequence[Word]) -> list[Cue]:
    spans = word_spans(text, words)
    # each word's display text runs to the next word's start (trailing punctuation and spaces included)
    ends = [start for start, _ in spans[1:]] + [len(text)]
    cues: list[Cue] = []
    first = 0
    for i, word in enumerate(words):
        piece = text[spans[first][0]:ends[i]].strip()
        last = i == len(words) - 1
        following = None if last else words[i + 1]
        longer = following is not None and (
            len(text[spans[first][0]:ends[i + 1]].strip()) > MAX_CHARS
            or following.end - words[first].start > MAX_SECONDS
            or following.start - word.end > MAX_GAP)
        if last or longer or piece.endswith(SENTENCE_END):
            cues.append(Cue(words[first].start, max(word.end, words[first].start), wrap(piece)))
            first = i + 1
    return cues


def wrap(text: str) -> str:
    """Two lines split at the space nearest the middle when longer than LINE_CHARS (anywhere if no space)."""
    if len(text) <= LINE_CHARS:
        return text
    middle = len(text) // 2
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    cut = min(spaces, key=lambda i: abs(i - middle)) if spaces else middle
    return text[:cut].rstrip() + "\n" + text[cut:].lstrip()


def _clock(seconds: float, separator: str) -> str:
    millis = int(round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}{separator}{rest % 1000:03d}"


def to_srt(cues: Sequence[Cue]) -> str:
    return "".join(f"{i}\n{_clock(c.start, ',')} --> {_clock(c.end, ',')}\n{c.text}\n\n" for i, c in enumerate(cues, 1))


def to_vtt(cues: Sequence[Cue]) -> str:
    return "WEBVTT\n\n" + "".join(f"{_clock(c.start, '.')} --> {_clock(c.end, '.')}\n{c.text}\n\n" for c in cues)
