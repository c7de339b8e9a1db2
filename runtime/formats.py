"""Output formats of `transcribe`: plain text, or one JSON object per input per line."""
from __future__ import annotations

import json
import os
from typing import TextIO

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
    }


def write_txt(out: TextIO, path: str | os.PathLike, result: Transcription) -> None:
    out.write(result.text + "\n")


def write_json(out: TextIO, path: str | os.PathLike, result: Transcription) -> None:
    out.write(json.dumps(to_json(path, result), ensure_ascii=False) + "\n")


FORMATS = {"txt": write_txt, "json": write_json}


def write_result(out: TextIO, path: str | os.PathLike, result: Transcription, fmt: str) -> None:
    FORMATS[fmt](out, path, result)
