"""One decode step of several decoders on the same random step, alternating rounds in one process.

    python -m benchmarks.decode_step MODEL_DIR [MODEL_DIR ...] [--prefix 145 800] [--generated 30]
                                     [--rounds 8] [--steps 20] [--threads 2]

Times each model directory's decoder graph on one new token after `--prefix` prompt tokens in the shared
cache and `--generated` in the per-hypothesis cache (random values: speed does not depend on them), in
alternating rounds of `--steps` calls, so all see the same moments of a noisy machine. Prints the median and
best ms per step of each, per prefix length (145 tokens: 10 s of audio; 800: 60 s in one window).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

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


def alternate(sessions: dict[str, ort.InferenceSession], feeds: dict, rounds: int, steps: int) -> dict[str, list[float]]:
    """ms per step of each session: 3 warm-up calls each, then `rounds` rounds of `steps` calls per session."""
    times: dict[str, list[float]] = {name: [] for name in sessions}
    for session in sessions.values():
        for _ in range(3):
            session.run(None, feeds)
    for _ in range(rounds):
        for name, session in sessions.items():
            started = time.perf_counter()
            for _ in range(steps):
                session.run(None, feeds)
            times[name].append((time.perf_counter() - started) / steps * 1e3)
    return times


def add_timing_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--generated", type=int, default=30, help="tokens in the per-hypothesis cache [30]")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)


def summary(name: str, times: list[float]) -> str:
    return f"{name}  median {np.median(times):.2f} ms  best {min(times):.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dirs", type=Path, nargs="+")
    parser.add_argument("--prefix", type=int, nargs="+", default=[145, 800], help="prompt tokens cached [145 800]")
    add_timing_arguments(parser)
    args = parser.parse_args()
    model = json.loads((args.model_dirs[0] / "manifest.json").read_text())["model"]
    sessions = {str(d): make_session(d / "decoder.onnx", args.threads) for d in args.model_dirs}
    width = max(map(len, sessions))
    for prefix in args.prefix:
        times = alternate(sessions, step_feeds(model, prefix, args.generated), args.rounds, args.steps)
        print(f"one step on a {prefix}-token prefix and {args.generated} generated, {args.threads} threads, "
              f"{args.rounds} alternating rounds of {args.steps} steps:")
        for name, ms in times.items():
            print("  " + summary(name.ljust(width), ms))


if __name__ == "__main__":
    main()
