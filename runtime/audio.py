"""Audio input: any of path / bytes / numpy array -> mono float32 16 kHz in [-1, 1], whole or in windows.

Mirrors the official wrapper: multichannel audio is averaged to mono, other rates are resampled with
soxr's HQ mode (what librosa's default `soxr_hq` uses), and a signal whose peak exceeds 1 is divided by
its peak (quieter signals are not rescaled). Long audio is cut with the official rule (`split_blocks`),
but from a stream of blocks, so files are never read whole: the peak rule then applies per window
(it only matters for float files with samples beyond +-1).
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import Iterable, Iterator, Union

import numpy as np
import soundfile as sf
import soxr

from .errors import AudioError
from .features import SAMPLE_RATE
from .sources import open_audio_file
from .vad import FRAME, Detector

AudioInput = Union[str, os.PathLike, bytes, np.ndarray]
MIN_SAMPLES = SAMPLE_RATE // 10  # 0.1 s: below this there is not one encoder token worth of audio
MIN_CHUNK_SECONDS = 0.5


def _read_bytes(source: bytes) -> tuple[np.ndarray, int]:
    try:
        data, rate = sf.read(io.BytesIO(source), dtype="float32", always_2d=True)
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


def _check_finite(block: np.ndarray) -> np.ndarray:
    if not np.all(np.isfinite(block)):
        raise AudioError("audio contains NaN or Inf samples")
    return block


def _check_length(samples: int) -> None:
    if samples == 0:
        raise AudioError("audio is empty (0 samples)")
    if samples < MIN_SAMPLES:
        raise AudioError(f"audio is too short ({samples / SAMPLE_RATE:.3f} s; at least 0.1 s is needed)")


def _peak_normalized(audio: np.ndarray) -> np.ndarray:
    """Divided by its peak only if the peak exceeds 1, then clipped to [-1, 1]."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return np.clip(audio / peak if peak > 1.0 else audio, -1.0, 1.0)


def prepare(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono, resampled to 16 kHz, peak-normalised only if the peak exceeds 1, checked for NaN/Inf/length."""
    if np.asarray(audio).size == 0:
        raise AudioError("audio is empty (0 samples)")
    audio = _check_finite(to_mono(audio))
    if sample_rate <= 0:
        raise AudioError(f"invalid sample rate {sample_rate}")
    if sample_rate != SAMPLE_RATE:
        audio = soxr.resample(audio, sample_rate, SAMPLE_RATE, quality="HQ").astype(np.float32)
    _check_length(len(audio))
    return _peak_normalized(audio)


def _file_blocks(path: Union[str, os.PathLike]) -> Iterator[np.ndarray]:
    """Checked 16 kHz mono blocks of a file; raises AudioError at the end if it held under 0.1 s."""
    total = 0
    for block in open_audio_file(path).blocks():
        total += len(block)
        yield _check_finite(block)
    _check_length(total)


def load_audio(source: AudioInput, sample_rate: int | None = None) -> np.ndarray:
    """Load and prepare one whole input. A numpy array needs its `sample_rate`; int16 arrays are scaled by 1/32768."""
    if isinstance(source, np.ndarray):
        if sample_rate is None:
            raise AudioError("a numpy array input needs its sample_rate")
        data = source.astype(np.float32) / 32768.0 if source.dtype == np.int16 else source
        return prepare(data, sample_rate)
    if isinstance(source, bytes):
        return prepare(*_read_bytes(source))
    return _peak_normalized(np.concatenate(list(_file_blocks(source))))


@dataclass(frozen=True)
class AudioWindow:
    audio: np.ndarray  # 16 kHz mono, possibly zero-padded to MIN_CHUNK_SECONDS
    offset: float  # seconds from the start of the input
    seconds: float  # length before padding


def split_blocks(blocks: Iterable[np.ndarray], max_seconds: float, search_seconds: float = 5.0,
                 energy_window_ms: float = 100.0) -> Iterator[AudioWindow]:
    """Cut a stream of 16 kHz blocks into windows with the official rule, holding at most
    max_seconds + search_seconds + one block in memory.

    Each cut aims at start + max_seconds; within +-search_seconds it finds the 100 ms box with the lowest
    sum of |x| and cuts at the quietest sample inside it. Windows tile the audio exactly; when there is more
    than one window, a window shorter than 0.5 s is zero-padded at its tail to 0.5 s.
    """
    max_len = int(max_seconds * SAMPLE_RATE)
    expand = int(search_seconds * SAMPLE_RATE)
    box = max(4, int(energy_window_ms / 1000.0 * SAMPLE_RATE))
    buffer, start, cuts = np.zeros(0, dtype=np.float32), 0, 0

    def cut_window(boundary: int) -> AudioWindow:
        nonlocal buffer, start, cuts
        window = AudioWindow(buffer[:boundary], start / SAMPLE_RATE, boundary / SAMPLE_RATE)
        buffer, start, cuts = buffer[boundary:], start + boundary, cuts + 1
        return window

    for block in blocks:
        buffer = np.concatenate([buffer, block])
        while len(buffer) > max_len + expand:  # the whole search range is here: cut as the whole-signal rule does
            yield cut_window(_quiet_boundary(buffer, max_len, expand, box))
    while len(buffer) > max_len:
        yield cut_window(_quiet_boundary(buffer, max_len, expand, box))
    last = AudioWindow(buffer, start / SAMPLE_RATE, len(buffer) / SAMPLE_RATE)
    min_len = int(MIN_CHUNK_SECONDS * SAMPLE_RATE)
    if cuts and len(buffer) < min_len:
        last = AudioWindow(np.pad(buffer, (0, min_len - len(buffer))), last.offset, last.seconds)
    yield last


def _quiet_boundary(audio: np.ndarray, max_len: int, expand: int, box: int) -> int:
    """The official cut point of `audio` (which starts at the current window's start)."""
    left, right = max(0, max_len - expand), min(len(audio), max_len + expand)
    if right - left <= box:
        boundary = max_len
    else:
        magnitude = np.abs(audio[left:right])
        sums = np.convolve(magnitude, np.ones(box, dtype=np.float32), mode="valid")
        quiet = int(np.argmin(sums))
        boundary = left + quiet + int(np.argmin(magnitude[quiet:quiet + box]))
    return min(max(boundary, 1), len(audio))


def speech_windows(blocks: Iterable[np.ndarray], detector: Detector, max_seconds: float, threshold: float = 0.5,
                   min_silence: float = 0.5, pad: float = 0.2, min_speech: float = 0.25) -> Iterator[AudioWindow]:
    """Windows around the speech a voice-activity detector finds in a stream of 16 kHz blocks.

    A region opens at a frame with probability >= threshold (0.15 less keeps it open), closes after
    `min_silence` s without speech, and is padded by `pad` s on both sides (never overlapping the previous
    window); one reaching `max_seconds` is cut there and continues in the next window. Regions with less than
    `min_speech` s of speech are dropped. Memory: the current region plus one block.
    """
    detector.reset()
    max_len, pad_len = int(max_seconds * SAMPLE_RATE), int(pad * SAMPLE_RATE)
    min_silence_len, min_speech_len = int(min_silence * SAMPLE_RATE), int(min_speech * SAMPLE_RATE)
    kept, kept_start = np.zeros(0, dtype=np.float32), 0  # audio from sample kept_start on
    unframed = np.zeros(0, dtype=np.float32)
    framed = 0  # samples decided so far
    start: int | None = None  # current region's first sample
    speech_end = previous_end = 0

    def window(first: int, last: int) -> AudioWindow:
        audio = kept[first - kept_start:last - kept_start]
        padded = np.pad(audio, (0, max(0, int(MIN_CHUNK_SECONDS * SAMPLE_RATE) - len(audio))))
        return AudioWindow(padded, first / SAMPLE_RATE, len(audio) / SAMPLE_RATE)

    for block in blocks:
        kept, unframed = np.concatenate([kept, block]), np.concatenate([unframed, block])
        n = len(unframed) // FRAME
        frames, unframed = unframed[:n * FRAME].reshape(n, FRAME), unframed[n * FRAME:]
        for probability in detector.probabilities(frames) if n else ():
            frame_start, framed = framed, framed + FRAME
            if probability >= (threshold - 0.15 if start is not None else threshold):
                if start is None:
                    start = max(frame_start - pad_len, previous_end)
                speech_end = framed
            elif start is not None and framed - speech_end >= min_silence_len:
                previous_end = speech_end + pad_len
                if speech_end - start >= min_speech_len:
                    yield window(start, previous_end)
                start = None
            if start is not None and framed - start >= max_len:
                yield window(start, framed)
                start = previous_end = framed
        keep_from = start if start is not None else max(framed - pad_len, previous_end)
        kept, kept_start = kept[keep_from - kept_start:], keep_from
    if start is not None and speech_end - start >= min_speech_len:
        yield window(start, min(speech_end + pad_len, kept_start + len(kept)))


class AudioStream:
    """The windows of one input, each peak-normalised; files are read block by block. Without a detector,
    windows of at most about max_seconds (+ the 5 s search range) tile the input (`split_blocks`); with one,
    they hold its speech regions (`speech_windows`). `seconds` is the input's length once iterated."""

    def __init__(self, source: AudioInput, max_seconds: float, sample_rate: int | None = None,
                 detector: Detector | None = None):
        self.source, self.max_seconds, self.sample_rate, self.detector = source, max_seconds, sample_rate, detector
        self.seconds = 0.0

    def _counted(self, blocks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        for block in blocks:
            self.seconds += len(block) / SAMPLE_RATE
            yield block

    def __iter__(self) -> Iterator[AudioWindow]:
        if isinstance(self.source, (np.ndarray, bytes)):
            blocks: Iterable[np.ndarray] = [load_audio(self.source, self.sample_rate)]
        else:
            blocks = _file_blocks(self.source)
        blocks = self._counted(blocks)
        windows = (split_blocks(blocks, self.max_seconds) if self.detector is None
                   else speech_windows(blocks, self.detector, self.max_seconds))
        for w in windows:
            yield AudioWindow(_peak_normalized(w.audio), w.offset, w.seconds)
