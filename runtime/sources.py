"""Audio files read in blocks: mono float32 16 kHz pieces of any input, in bounded memory.

soundfile reads what libsndfile reads (wav, flac, ogg/vorbis, opus, mp3, aiff, ...), resampled block by
block with soxr's streaming resampler (HQ, as the whole-signal path); anything else (m4a, mp4, webm, ...)
goes through an `ffmpeg` subprocess when ffmpeg is installed (its own resampler and channel mix). A
2-hour file never needs 2 hours of float32 in memory.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import soundfile as sf
import soxr

from .errors import AudioError
from .features import SAMPLE_RATE

BLOCK_SECONDS = 10.0


@dataclass(frozen=True)
class AudioFile:
    """An opened-for-reading audio file; `blocks()` may be called once per use."""
    path: str
    backend: str  # "soundfile" | "ffmpeg"
    duration: float | None  # seconds, when the container says

    def blocks(self) -> Iterator[np.ndarray]:
        """Mono float32 16 kHz blocks of about BLOCK_SECONDS, in order."""
        return _soundfile_blocks(self.path) if self.backend == "soundfile" else _ffmpeg_blocks(self.path)


def open_audio_file(path: str | os.PathLike) -> AudioFile:
    """Check that `path` is a readable audio file and pick its decoder; AudioError with the reason otherwise."""
    name = os.fspath(path)
    if not os.path.exists(name):
        raise AudioError("file not found")
    if os.path.isdir(name):
        raise AudioError("is a directory with no audio files in it")
    if os.path.getsize(name) == 0:
        raise AudioError("file is empty (0 bytes)")
    try:
        info = sf.info(name)
    except (sf.LibsndfileError, RuntimeError) as exc:
        if shutil.which("ffmpeg") is None:
            raise AudioError(f"cannot decode audio ({str(exc).strip()}); install ffmpeg to read more formats") from exc
        return AudioFile(name, "ffmpeg", None)
    if info.frames == 0 or info.samplerate <= 0:
        raise AudioError("audio is empty (0 samples)")
    return AudioFile(name, "soundfile", info.frames / info.samplerate)


def _soundfile_blocks(path: str) -> Iterator[np.ndarray]:
    try:
        with sf.SoundFile(path) as handle:
            rate = handle.samplerate
            resampler = None if rate == SAMPLE_RATE else soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32",
                                                                             quality="HQ")
            for block in handle.blocks(blocksize=int(BLOCK_SECONDS * rate), dtype="float32", always_2d=True):
                mono = block.mean(axis=1, dtype=np.float32)
                yield mono if resampler is None else resampler.resample_chunk(mono)
            if resampler is not None:
                yield resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioError(f"cannot decode audio ({str(exc).strip() or type(exc).__name__})") from exc


def _ffmpeg_blocks(path: str) -> Iterator[np.ndarray]:
    command = [shutil.which("ffmpeg") or "ffmpeg", "-nostdin", "-v", "error", "-i", path, "-vn", "-f", "s16le",
               "-ac", "1", "-ar", str(SAMPLE_RATE), "-"]
    block_bytes = int(BLOCK_SECONDS * SAMPLE_RATE) * 2
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        try:
            while data := proc.stdout.read(block_bytes):
                yield np.frombuffer(data[:len(data) // 2 * 2], dtype=np.int16).astype(np.float32) / 32768.0
        finally:
            if proc.poll() is None:
                proc.kill()
            stderr = proc.stderr.read().decode(errors="replace").strip()
        if proc.wait() != 0:
            reason = stderr.splitlines()[-1] if stderr else f"exit status {proc.returncode}"
            raise AudioError(f"ffmpeg cannot decode it ({reason})")
