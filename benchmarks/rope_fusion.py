"""One decode step with and without the RoPE fusion (`quantize/fusion.py`), in one process.

    python -m benchmarks.rope_fusion FP32_MODEL_DIR [--quant int4] [--prefix 145] [--generated 30]
                                     [--rounds 8] [--steps 20] [--threads 2]

Quantizes the fp32 export twice into a temporary directory, the second time with `fuse_rotary_embeddings`
replaced by the identity, then times the two decoder graphs on the same random step (`--prefix` prompt
tokens in the shared cache, `--generated` in the per-hypothesis cache, one new token) in alternating rounds
of `--steps` calls, so both see the same moments of a noisy machine. Prints node counts and the median and
best ms per step of each. For the full-size figure, pass the cached `full-0.6b` fp32 export of
benchmarks.speed (~/.cache/qwen-asr-edge/bench/full-0.6b-fp32-*/model).
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np
import onnx

from qwen_asr_edge.quantize import pipeline
from qwen_asr_edge.quantize.pipeline import quantize_model_dir
from qwen_asr_edge.sessions import make_session


def step_feeds(model: dict, prefix: int, generated: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    feeds = {"inputs_embeds": rng.standard_normal((1, 1, model["hidden_size"])).astype(np.float32) * 0.1,
             "position_ids": np.array([[prefix + generated]], np.int64)}
    for i in range(model["num_layers"]):
        for kind in ("key", "value"):
            for name, length in (("prefix", prefix), ("past", generated)):
                shape = (1, model["num_kv_heads"], length, model["head_dim"])
                feeds[f"{name}.{i}.{kind}"] = rng.standard_normal(shape).astype(np.float32)
    return feeds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fp32_dir", type=Path)
    parser.add_argument("--quant", default="int4")
    parser.add_argument("--prefix", type=int, default=145, help="prompt tokens in the shared cache [145: 10 s]")
    parser.add_argument("--generated", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fused = quantize_model_dir(args.fp32_dir, Path(tmp) / "fused", args.quant)
        with mock.patch.object(pipeline, "fuse_rotary_embeddings", lambda model: model):
            unfused = quantize_model_dir(args.fp32_dir, Path(tmp) / "unfused", args.quant)
        model = json.loads((fused / "manifest.json").read_text())["model"]
        feeds = step_feeds(model, args.prefix, args.generated)
        variants = {"unfused": unfused, "fused": fused}
        sessions = {name: make_session(d / "decoder.onnx", args.threads) for name, d in variants.items()}
        times: dict[str, list[float]] = {name: [] for name in sessions}
        for session in sessions.values():
            for _ in range(3):
                session.run(None, feeds)
        for _ in range(args.rounds):
            for name, session in sessions.items():
                started = time.perf_counter()
                for _ in range(args.steps):
                    session.run(None, feeds)
                times[name].append((time.perf_counter() - started) / args.steps * 1e3)
        print(f"{args.quant} decoder, one step on a {args.prefix}-token prefix and {args.generated} generated, "
              f"{args.threads} threads, {args.rounds} alternating rounds of {args.steps} steps:")
        for name, d in variants.items():
            nodes = len(onnx.load(str(d / "decoder.onnx"), load_external_data=False).graph.node)
            print(f"  {name:8s} {nodes:5d} nodes  median {np.median(times[name]):.2f} ms  best {min(times[name]):.2f} ms")


if __name__ == "__main__":
    main()
