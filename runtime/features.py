"""Whisper log-mel features, exactly as Qwen3-ASR's WhisperFeatureExtractor computes them.

For N samples at 16 kHz: periodic Hann(400) window, centred STFT (reflect-pad 200 samples each side,
hop 160, 400-point real FFT), power |X|^2, the last frame dropped (T = N // 160 frames), a 128-band
Slaney-scale, Slaney-normalised mel filterbank over 0-8000 Hz, log10(max(mel, 1e-10)), the per-utterance
clamp x = max(x, max(x) - 8), and (x + 4) / 4. Computed in float64 and returned as float32 [128, T].

Two implementations give the same numbers (max abs difference <= 1e-5, tests/test_features.py): the C++
extension `qwen_asr_edge._native` (cpp_ext/; 2-4x faster on one thread, by the CPU's SIMD width) when it
was built, and the numpy code below otherwise, which is also the reference. `QWEN_ASR_EDGE_NATIVE=0` in the environment forces numpy;
`BACKEND` says which one is in use. Streaming extraction (`_native.StreamingLogMel`) needs the extension.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ._native_loader import native_module, native_unavailable_reason

_native = native_module()
NATIVE: bool = _native is not None
"""True when the C++ extension computes the features."""
BACKEND: str = "native" if NATIVE else "numpy"
NATIVE_UNAVAILABLE_REASON: str | None = native_unavailable_reason()

SAMPLE_RATE = 16000
N_FFT = 400
HOP = 160
N_MELS = 128
FRAME_BLOCK = 256  # frames per FFT call in the numpy path (measured fastest of 256 / 1024 / 4096)


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney mel scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above (step ln(6.4)/27)."""
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / (200.0 / 3)
    log_region = hz >= 1000.0
    return np.where(log_region, 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0), mel)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    hz = mel * (200.0 / 3)
    return np.where(mel >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0)), hz)


@lru_cache(maxsize=4)
def mel_filters(n_mels: int = N_MELS, n_fft: int = N_FFT, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Triangular Slaney filterbank [n_fft//2 + 1, n_mels] with area normalisation 2 / (f[m+2] - f[m])."""
    fft_freqs = np.linspace(0, sample_rate // 2, n_fft // 2 + 1)
    mel_points = np.linspace(_hz_to_mel(0.0), _hz_to_mel(sample_rate / 2), n_mels + 2)
    edges = _mel_to_hz(mel_points)
    widths = np.diff(edges)
    slopes = edges[None, :] - fft_freqs[:, None]
    down = -slopes[:, :-2] / widths[:-1]
    up = slopes[:, 2:] / widths[1:]
    filters = np.maximum(0.0, np.minimum(down, up))
    filters *= 2.0 / (edges[2:n_mels + 2] - edges[:n_mels])
    filters.setflags(write=False)
    return filters


@lru_cache(maxsize=1)
def _hann() -> np.ndarray:
    n = np.arange(N_FFT)
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * n / N_FFT)  # periodic Hann


def log_mel_power_numpy(audio: np.ndarray) -> np.ndarray:
    """`log_mel_power` in numpy (float64): the fallback and the reference for the C++ extension.

    Frames are strided views of the reflect-padded signal, transformed FRAME_BLOCK at a time, so memory
    stays bounded (about 3 MB of work arrays plus the output) and the work stays in cache.
    """
    x = np.asarray(audio, dtype=np.float32).astype(np.float64)
    n_frames = len(x) // HOP
    out = np.empty((n_frames, N_MELS))
    if n_frames == 0:
        return out.T
    padded = np.pad(x, N_FFT // 2, mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:n_frames]
    for start in range(0, n_frames, FRAME_BLOCK):
        spectrum = np.fft.rfft(frames[start:start + FRAME_BLOCK] * _hann(), n=N_FFT, axis=-1)
        power = np.abs(spectrum)
        power *= power  # |X|^2, [block, 201]
        np.dot(power, mel_filters(), out=out[start:start + FRAME_BLOCK])
    np.maximum(out, 1e-10, out=out)
    np.log10(out, out=out)
    return out.T


def log_mel_power(audio: np.ndarray) -> np.ndarray:
    """Unclamped log10 mel power [128, N // 160] of 16 kHz mono audio (N >= 160 for a frame).

    float32 from the C++ extension, float64 from numpy; the values agree to 1e-5.
    """
    x = _mono_float32(audio)
    return _native.log_mel_power(x) if _native is not None else log_mel_power_numpy(x)


def normalize_log_mel(log_mel: np.ndarray, max_value: float | None = None) -> np.ndarray:
    """The per-utterance dynamic-range clamp (max - 8) and the (x + 4) / 4 scaling.

    `max_value` defaults to `log_mel.max()`. Streaming consumers pass the running max of the frames seen so far
    (`StreamingLogMel.max_log_mel`); the result is then at most (global max - running max) / 4 below the
    offline features, and equal to them wherever a value is within 8 of the global max.
    """
    if log_mel.size == 0:
        return log_mel.astype(np.float32)
    if max_value is None:
        max_value = log_mel.max()
    clamped = np.maximum(log_mel, np.float64(max_value) - 8.0)
    return ((clamped + 4.0) / 4.0).astype(np.float32)


def log_mel_spectrogram_numpy(audio: np.ndarray) -> np.ndarray:
    """`log_mel_spectrogram` in numpy."""
    return normalize_log_mel(log_mel_power_numpy(audio))


def log_mel_spectrogram(audio: np.ndarray) -> np.ndarray:
    """Model input features float32 [128, T], T = len(audio) // 160."""
    x = _mono_float32(audio)
    return _native.log_mel_spectrogram(x) if _native is not None else log_mel_spectrogram_numpy(x)


def _mono_float32(audio: np.ndarray) -> np.ndarray:
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"log-mel: expected 1-D mono audio, got shape {x.shape}")
    return x
