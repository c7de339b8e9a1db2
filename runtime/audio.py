"""Audio input: any of path / bytes / numpy array -> mono float32 16 kHz in [-1, 1].

Mirrors the official wrapper: multichannel audio is averaged to mono, other rates are resampled with
soxr's HQ mode (what librosa's default `soxr_hq` uses), and a signal whose peak exceeds 1 is divided by
its peak (quieter signals are not rescaled). Long audio is cut like the official wrapper does
(`split_long_audio`).
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import Union

import numpy as np
import soundfile as sf
import soxr

from .errors import AudioError
from .features import SAMPLE_RATE

AudioInput = Union[str, os.PathLike, bytes, np.ndarray]
MIN_SAMPLES = SAMPLE_RATE // 10  # 0.1 s: below this there is not one encoder token worth of audio
MIN_CHUNK_SECONDS = 0.5


def _read(source: Union[str, os.PathLike, bytes]) -> tuple[np.ndarray, int]:
    name = "<bytes>" if isinstance(source, bytes) else os.fspath(source)
    if not isinstance(source, bytes) and not os.path.exists(name):
        raise AudioError("file not found")
    try:
        data, rate = sf.read(io.BytesIO(source) if isinstance(source, bytes) else name, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioError(f"cannot decode audio ({str(exc).strip() or type(exc).__name__})") from exc
    return data, int(rate)


def to_mono(audio: np.ndarray) -> np.ndarray:
    """[T] or [T, C] (or [C, T] with C <= 8 < T, as the official wrapper accepts) -> [T] float32."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        return audio
    if audio.ndim != 2:
        raise AudioError(f"audio array must be 1-D or 2-D, got {audio.ndim}-D")
    if audio.shape[0] <= 8 and audio.shape[1] > audio.shape[0]:
        audio = audio.T
    return audio.mean(axis=1, dtype=np.float32)


def prepare(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono, resampled to 16 kHz, peak-normalised only if the peak exceeds 1, checked for NaN/Inf/length."""
    if np.asarray(audio).size == 0:
        raise AudioError("audio is empty (0 samples)")
    audio = to_mono(audio)
    if not np.all(np.isfinite(audio)):
        raise AudioError("audio contains NaN or Inf samples")
    if sample_rate <= 0:
        raise AudioError(f"invalid sample rate {sample_rate}")
    if sample_rate != SAMPLE_RATE:
        audio = soxr.resample(audio, sample_rate, SAMPLE_RATE, quality="HQ").astype(np.float32)
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak > 1.0:
        audio = audio / peak
    audio = np.clip(audio, -1.0, 1.0)
    if len(audio) < MIN_SAMPLES:
        raise AudioError(f"audio is too short ({len(audio) / SAMPLE_RATE:.3f} s; at least 0.1 s is needed)")
    return audio


def load_audio(source: AudioInput, sample_rate: int | None = None) -> np.ndarray:
    """Load and prepare one input. A numpy array needs its `sample_rate`; int16 arrays are scaled by 1/32768."""
    if isinstance(source, np.ndarray):
        if sample_rate is None:
            raise AudioError("a numpy array input needs its sample_rate")
        data = source.astype(np.float32) / 32768.0 if source.dtype == np.int16 else source
        return prepare(data, sample_rate)
    data, rate = _read(source)
    return prepare(data, rate)


@dataclass(frozen=True)
class AudioWindow:
    audio: np.ndarray
    offset: float  # seconds from the start of the input


def split_long_audio(audio: np.ndarray, max_seconds: float, search_seconds: float = 5.0,
                     energy_window_ms: float = 100.0) -> list[AudioWindow]:
    """Cut audio longer than `max_seconds` as the official wrapper does.

    Each cut aims at start + max_seconds; within +-search_seconds it finds the 100 ms box with the lowest
    sum of |x| and cuts at the quietest sample inside it. Windows tile the audio exactly; in the
    multi-window case only, a window shorter than 0.5 s is zero-padded at its tail to 0.5 s.
    """
    total = len(audio)
    max_len = int(max_seconds * SAMPLE_RATE)
    if total <= max_len:
        return [AudioWindow(audio, 0.0)]
    expand = int(search_seconds * SAMPLE_RATE)
    box = max(4, int(energy_window_ms / 1000.0 * SAMPLE_RATE))
    magnitude = np.abs(audio)
    windows, start = [], 0
    while total - start > max_len:
        cut = start + max_len
        left, right = max(start, cut - expand), min(total, cut + expand)
        if right - left <= box:
            boundary = cut
        else:
            sums = np.convolve(magnitude[left:right], np.ones(box, dtype=np.float32), mode="valid")
            quiet = int(np.argmin(sums))
            boundary = left + quiet + int(np.argmin(magnitude[left + quiet:left + quiet + box]))
        boundary = min(max(boundary, start + 1), total)
        windows.append(AudioWindow(audio[start:boundary], start / SAMPLE_RATE))
        start = boundary
    windows.append(AudioWindow(audio[start:], start / SAMPLE_RATE))
    min_len = int(MIN_CHUNK_SECONDS * SAMPLE_RATE)
    return [AudioWindow(np.pad(w.audio, (0, max(0, min_len - len(w.audio)))), w.offset) for w in windows]
