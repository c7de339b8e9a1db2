"""Voice activity detection and speech segmentation of a stream of 16 kHz blocks.

A detector gives each 32 ms frame (512 samples) a speech probability: Silero VAD's ONNX model run by
onnxruntime when the user has it (`silero_vad.onnx` from the `silero-vad` package's data, found without
importing that package, or any path), or a built-in energy detector. `speech_windows` turns the frames into
windows: speech regions padded by 0.2 s, closed after 0.5 s of silence, cut when they reach the window
limit, so that long silences are skipped and every window holds whole utterances.
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import InputError
from .features import SAMPLE_RATE

FRAME = 512  # samples per decision (32 ms), Silero's frame at 16 kHz


class Detector(Protocol):
    def reset(self) -> None: ...

    def probabilities(self, frames: np.ndarray) -> np.ndarray:
        """Speech probability [n] of consecutive frames [n, FRAME], continuing the stream since reset()."""


class EnergyVad:
    """Speech where a frame's level is `margin_db` above the tracked noise floor (and above -60 dBFS).

    The floor starts at -60 dBFS, follows a quieter frame at once and rises by `rise_db_per_s` otherwise
    (so steady noise stops counting as speech after a few seconds)."""

    def __init__(self, margin_db: float = 12.0, rise_db_per_s: float = 3.0):
        self.margin_db = margin_db
        self.rise_per_frame = rise_db_per_s * FRAME / SAMPLE_RATE
        self.reset()

    def reset(self) -> None:
        self.floor = -60.0

    def probabilities(self, frames: np.ndarray) -> np.ndarray:
        levels = 10.0 * np.log10(np.mean(np.square(frames, dtype=np.float64), axis=1) + 1e-10)
        out = np.empty(len(levels))
        for i, level in enumerate(levels):
            self.floor = min(level, self.floor + self.rise_per_frame)
            out[i] = float(level > max(self.floor + self.margin_db, -60.0))
        return out


class SileroVad:
    """Silero VAD v5 (ONNX): 64 samples of context before each 512-sample frame, a recurrent state."""

    CONTEXT = 64

    def __init__(self, path: str | os.PathLike):
        from .sessions import make_session
        self.session = make_session(Path(path), threads=1)
        self.reset()

    def reset(self) -> None:
        self.state = np.zeros((2, 1, 128), dtype=np.float32)
        self.context = np.zeros((1, self.CONTEXT), dtype=np.float32)

    def probabilities(self, frames: np.ndarray) -> np.ndarray:
        out = np.empty(len(frames))
        rate = np.array(SAMPLE_RATE, dtype=np.int64)
        for i, frame in enumerate(frames):
            x = np.concatenate([self.context, frame[None].astype(np.float32)], axis=1)
            prob, self.state = self.session.run(None, {"input": x, "state": self.state, "sr": rate})
            self.context = x[:, -self.CONTEXT:]
            out[i] = prob[0, 0]
        return out


def silero_model_path() -> Path | None:
    """silero_vad.onnx of an installed `silero-vad` package (located, not imported: importing it loads torch)."""
    spec = importlib.util.find_spec("silero_vad")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "data" / "silero_vad.onnx"
        if path.is_file():
            return path
    return None


def make_detector(name: str) -> Detector:
    """'energy', 'silero' (the installed package's model) or a path to a Silero VAD .onnx file."""
    if name == "energy":
        return EnergyVad()
    if name == "silero":
        path = silero_model_path()
        if path is None:
            raise InputError("--vad silero: the silero-vad package is not installed (pip install --no-deps silero-vad "
                             "brings its ONNX model; torch is not needed) ; or give the path of silero_vad.onnx, "
                             "or use --vad energy")
        return SileroVad(path)
    if not Path(name).is_file():
        raise InputError(f"--vad {name}: expected energy, silero or the path of a Silero VAD .onnx model")
    return SileroVad(name)
