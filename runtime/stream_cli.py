"""`qwen-asr-edge transcribe --stream FILE|-`: live transcription of a file or of raw PCM on stdin.

The source is fed in 0.1 s pieces (paced to real time with --realtime). On a terminal the current segment
is redrawn in place after every chunk (fixed text, then the partial text dimmed) and each finished segment
stays on its own line; piped, only finished segments are written, one line each (txt) or one JSON object
each (json), as soon as they are final. `-` reads 16 kHz mono s16le from stdin, e.g.
    arecord -f S16_LE -r 16000 -c 1 -t raw | qwen-asr-edge transcribe --stream -
"""
from __future__ import annotations

import json
import shutil
import sys
import time
from typing import Iterator, TextIO

import numpy as np

from .features import SAMPLE_RATE
from .sources import open_audio_file
from .streaming import Stream, StreamUpdate

PIECE_SAMPLES = SAMPLE_RATE // 10
DIM, RESET, CLEAR_LINE = "\033[2m", "\033[0m", "\r\033[K"


def stdin_pieces(stdin=None) -> Iterator[np.ndarray]:
    """16 kHz mono s16le from stdin (binary) in 0.1 s pieces, until end of input."""
    source = stdin if stdin is not None else sys.stdin.buffer
    leftover = b""
    while data := source.read(PIECE_SAMPLES * 2):
        data = leftover + data
        usable = len(data) // 2 * 2
        leftover = data[usable:]
        yield np.frombuffer(data[:usable], dtype="<i2").astype(np.float32) / 32768.0


def file_pieces(path: str) -> Iterator[np.ndarray]:
    for block in open_audio_file(path).blocks():
        for i in range(0, len(block), PIECE_SAMPLES):
            yield block[i:i + PIECE_SAMPLES]


class StreamPrinter:
    """Writes a stream's progress: live redraws on a terminal, finished segments only otherwise."""

    def __init__(self, out: TextIO, live: bool, fmt: str):
        self.out, self.live, self.fmt = out, live, fmt
        self.printed = 0  # committed segments written so far

    def show(self, stream: Stream, update: StreamUpdate) -> None:
        for language, text in stream.committed[self.printed:]:
            if not text:
                continue
            line = json.dumps({"language": language, "text": text}, ensure_ascii=False) if self.fmt == "json" else text
            self.out.write((CLEAR_LINE if self.live else "") + line + "\n")
        self.printed = len(stream.committed)
        if self.live and not update.final:
            committed = "".join(text for _, text in stream.committed)
            fixed, partial = update.fixed_text[len(committed):], update.partial_text
            width = shutil.get_terminal_size().columns - 1
            visible = (fixed + partial)[-width:]
            cut = max(0, len(visible) - len(partial))
            self.out.write(CLEAR_LINE + visible[:cut] + DIM + visible[cut:] + RESET)
        self.out.flush()


def run_stream(stream: Stream, pieces: Iterator[np.ndarray], realtime: bool, out: TextIO, fmt: str) -> StreamUpdate:
    """Feed every piece (paced to real time if asked), printing as chunks complete; the final update."""
    printer = StreamPrinter(out, live=out.isatty(), fmt=fmt)
    started, fed = time.monotonic(), 0
    chunks = 0
    for piece in pieces:
        update = stream.feed(piece)
        fed += len(piece)
        if update.chunks != chunks:
            chunks = update.chunks
            printer.show(stream, update)
        if realtime:
            time.sleep(max(0.0, started + fed / SAMPLE_RATE - time.monotonic()))
    final = stream.finish()
    printer.show(stream, final)
    return final
