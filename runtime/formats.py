"""Output formats of `transcribe`: plain text, one JSON object per input per line, SRT or WebVTT subtitles."""
from __future__ import annotations

import json
import os
from typing import TextIO

from .subtitles import build_cues, to_srt, to_vtt
from .transcriber import Transcription


def to_json(path: str | os.PathLike, result: Transcription) -> dict:
    """The JSON record of DESIGN.md: path, language, text, raw generation, generated ids, duration, segments."""
    return {
        "path": os.fspath(path),
        "language": result.language,
        "text": result.text,
        "raw": result.raw,
        "tokens": list(result.tokens),
        "duration": round(result.duration, 3),
        "segments": [{"start": round(s.start, 3), "end": round(s.end, 3), "text": s.text, "language": s.language}
                     for s in result.segments],
        **({"words": [{"text": w.text, "start": w.start, "end": w.end} for w in result.words]}
           if result.timestamps else {}),
    }


def write_txt(out: TextIO, path: str | os.PathLike, result: Transcription) -> None:
    out.write(result.text + "\n")


def write_json(out: TextIO, path: str | os.PathLike, result: Transcription) -> None:
    out.write(json.dumps(to_json(path, result), ensure_ascii=False) + "\n")


def _cues(result: Transcription) -> list:
    return [cue for segment in result.segments for cue in build_cues(segment.text, segment.words)]


def write_srt(out: TextIO, path: str | os.PathLike, result: Transcription) -> None:
    out.write(to_srt(_cues(result)))


def write_vtt(out: TextIO, path: str | os.PathLike, result: Transcription) -> None:
    out.write(to_vtt(_cues(result)))


FORMATS = {"txt": write_txt, "json": write_json, "srt": write_srt, "vtt": write_vtt}
SUBTITLES = ("srt", "vtt")  # formats that need word timestamps


def write_result(out: TextIO, path: str | os.PathLike, result: Transcription, fmt: str) -> None:
    FORMATS[fmt](out, path, result)
