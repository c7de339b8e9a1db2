"""Log-mel throughput and peak memory: native C++ vs the numpy path vs transformers' WhisperFeatureExtractor.

    python -m benchmarks.features [--seconds 10 60 600] [--repeat 5]

Each engine runs in its own single-threaded process (OMP/OpenBLAS/MKL threads = 1) on the same synthetic
audio; throughput is seconds of audio per second of compute (x realtime, best of --repeat), peak memory
is the process's VmHWM minus its resident size before the first call. The last column is the numpy path's
time over the engine's (the native-extension issue asks for >= 3). `native` is the extension with the
widest SIMD step this CPU has; `native-avx2` and `native-baseline` cap it (QWEN_ASR_EDGE_MAX_SIMD) to show
what CPUs without AVX-512 (or without AVX2) get; they are skipped where they would repeat `native`. The HF
extractor is skipped when transformers is not installed.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from .timing import fastest_seconds

REPO = Path(__file__).resolve().parents[1]
ENGINES = ("native", "native-avx2", "native-baseline", "numpy", "hf")
SIMD_CAPS = {"native-avx2": "avx2", "native-baseline": "baseline"}


def _memory_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _extractor(engine: str):
    if engine == "hf":
        from transformers import WhisperFeatureExtractor
        hf = WhisperFeatureExtractor(feature_size=128)
        return lambda audio: hf(audio, sampling_rate=16000, return_tensors="np", padding=False,
                                truncation=False)["input_features"][0]
    from qwen_asr_edge import features
    if engine.startswith("native"):
        if not features.NATIVE:
            raise SystemExit("native extension not built")
        return features.log_mel_spectrogram
    return features.log_mel_spectrogram_numpy


def measure(engine: str, seconds: float, repeat: int) -> dict:
    """One engine in this process: x realtime (best of `repeat`) and peak memory above the baseline."""
    extract = _extractor(engine)
    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(int(seconds * 16000))).astype(np.float32)
    baseline = _memory_kb("VmRSS")
    best = fastest_seconds(lambda: extract(audio), repeat)
    result = {"x_realtime": seconds / best, "ms": best * 1e3, "peak_mb": (_memory_kb("VmHWM") - baseline) / 1024}
    if engine.startswith("native"):
        from qwen_asr_edge import _native
        result["simd"] = _native.log_mel_simd()
    return result


def _run(engine: str, seconds: float, repeat: int) -> dict | None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "QWEN_ASR_EDGE_MAX_SIMD": SIMD_CAPS.get(engine, "")}
    proc = subprocess.run([sys.executable, "-m", "benchmarks.features", "--measure", engine, "--seconds", str(seconds),
                           "--repeat", str(repeat)], cwd=REPO, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"{engine}: skipped ({(proc.stderr or proc.stdout).strip().splitlines()[-1]})", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, nargs="+", default=[10.0, 60.0, 600.0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--measure", choices=ENGINES, help=argparse.SUPPRESS)  # internal: one engine, JSON out
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.seconds[0], args.repeat)))
        return
    print("| audio | engine | ms | x realtime | peak MB | numpy's time / this |\n|---|---|---|---|---|---|")
    for seconds in args.seconds:
        results = {engine: _run(engine, seconds, args.repeat) for engine in ENGINES}
        numpy_ms = results["numpy"]["ms"] if results.get("numpy") else None
        seen_simd = set()
        for engine, r in results.items():
            if r is None or r.get("simd") in seen_simd:
                continue
            if "simd" in r:
                seen_simd.add(r["simd"])
            name = f"{engine} ({r['simd']})" if "simd" in r else engine
            ratio = f"{numpy_ms / r['ms']:.2f}" if numpy_ms else "-"
            print(f"| {seconds:g} s | {name} | {r['ms']:.1f} | {r['x_realtime']:.0f} | {r['peak_mb']:.1f} | {ratio} |")


if __name__ == "__main__":
    main()
