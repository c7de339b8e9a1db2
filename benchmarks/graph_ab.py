"""The same work on several model directories' graphs, in alternating rounds in one process.

    python -m benchmarks.graph_ab decode MODEL_DIR [MODEL_DIR ...] [--prefix 145 800] [--generated 30]
    python -m benchmarks.graph_ab encoder MODEL_DIR [MODEL_DIR ...] [--seconds 10]
        [--rounds 8] [--steps 20] [--threads 2]

`decode`: one decoder step (one new token after `--prefix` prompt tokens in the shared cache and
`--generated` in the per-hypothesis cache; random values, speed does not depend on them), per prefix length
(145 tokens: 10 s of audio; 800: 60 s in one window). `encoder`: the audio encoder (conv stem and
transformer) on `--seconds` of the bundled sample. Each directory runs `--steps` times per round, rounds
alternate, so all see the same moments of a noisy machine; prints the median and best ms per run of each.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Callable

import numpy as np
import onnxruntime as ort

from qwen_asr_edge.sessions import make_session


def step_feeds(model: dict, prefix: int, generated: int) -> dict[str, np.ndarray]:
    """The decoder's inputs for one new token at position prefix + generated (manifest `model` fields)."""
    rng = np.random.default_rng(0)
    feeds = {"inputs_embeds": rng.standard_normal((1, 1, model["hidden_size"])).astype(np.float32) * 0.1,
             "position_ids": np.array([[prefix + generated]], np.int64)}
    for i in range(model["num_layers"]):
        for kind in ("key", "value"):
            for name, length in (("prefix", prefix), ("past", generated)):
                shape = (1, model["num_kv_heads"], length, model["head_dim"])
                feeds[f"{name}.{i}.{kind}"] = rng.standard_normal(shape).astype(np.float32)
    return feeds


def alternate(runs: dict[str, Callable[[], object]], rounds: int, steps: int) -> dict[str, list[float]]:
    """ms per call of each run: 3 warm-up calls each, then `rounds` rounds of `steps` calls per run."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():
        for _ in range(3):
            run()
    for _ in range(rounds):
        for name, run in runs.items():
            started = time.perf_counter()
            for _ in range(steps):
                run()
            times[name].append((time.perf_counter() - started) / steps * 1e3)
    return times


def decode_steps(sessions: dict[str, ort.InferenceSession], feeds: dict) -> dict[str, Callable[[], object]]:
    """One decoder call on `feeds` per session, for `alternate`."""
    return {name: (lambda session=session: session.run(None, feeds)) for name, session in sessions.items()}


def add_timing_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--generated", type=int, default=30, help="tokens in the per-hypothesis cache [30]")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)


def summary(name: str, times: list[float]) -> str:
    return f"{name}  median {np.median(times):.2f} ms  best {min(times):.2f} ms"


def print_times(heading: str, times: dict[str, list[float]]) -> None:
    print(heading)
    width = max(map(len, times))
    for name, ms in times.items():
        print("  " + summary(name.ljust(width), ms))


def decode(args: argparse.Namespace) -> None:
    model = json.loads((args.model_dirs[0] / "manifest.json").read_text())["model"]
    sessions = {str(d): make_session(d / "decoder.onnx", args.threads) for d in args.model_dirs}
    for prefix in args.prefix:
        feeds = step_feeds(model, prefix, args.generated)
        times = alternate(decode_steps(sessions, feeds), args.rounds, args.steps)
        print_times(f"one decode step on a {prefix}-token prefix and {args.generated} generated, {args.threads} "
                    f"threads, {args.rounds} alternating rounds of {args.steps} steps:", times)


def encoder(args: argparse.Namespace) -> None:
    from qwen_asr_edge import Transcriber
    from qwen_asr_edge.audio import load_audio
    from qwen_asr_edge.features import SAMPLE_RATE, log_mel_spectrogram

    from .speed import SAMPLE
    mel = log_mel_spectrogram(np.resize(load_audio(SAMPLE), int(args.seconds * SAMPLE_RATE)))
    encoders = {str(d): Transcriber(d, threads=args.threads).encoder for d in args.model_dirs}
    times = alternate({name: (lambda e=e: e(mel)) for name, e in encoders.items()}, args.rounds, args.steps)
    print_times(f"the audio encoder on {args.seconds:g} s, {args.threads} threads, {args.rounds} alternating "
                f"rounds of {args.steps} runs:", times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", choices=("decode", "encoder"))
    parser.add_argument("model_dirs", type=Path, nargs="+")
    parser.add_argument("--prefix", type=int, nargs="+", default=[145, 800], help="decode: prompt tokens cached")
    parser.add_argument("--seconds", type=float, default=10.0, help="encoder: audio seconds [10]")
    add_timing_arguments(parser)
    args = parser.parse_args()
    (decode if args.work == "decode" else encoder)(args)


if __name__ == "__main__":
    main()
