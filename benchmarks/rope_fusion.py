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
from pathlib import Path
from unittest import mock

import onnx

from qwen_asr_edge.quantize import pipeline
from qwen_asr_edge.quantize.pipeline import quantize_model_dir
from qwen_asr_edge.sessions import make_session

from .graph_ab import add_timing_arguments, alternate, decode_steps, step_feeds, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fp32_dir", type=Path)
    parser.add_argument("--quant", default="int4")
    parser.add_argument("--prefix", type=int, default=145, help="prompt tokens in the shared cache [145: 10 s]")
    add_timing_arguments(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fused = quantize_model_dir(args.fp32_dir, Path(tmp) / "fused", args.quant)
        with mock.patch.object(pipeline, "fuse_rotary_embeddings", lambda model: model):
            unfused = quantize_model_dir(args.fp32_dir, Path(tmp) / "unfused", args.quant)
        model = json.loads((fused / "manifest.json").read_text())["model"]
        feeds = step_feeds(model, args.prefix, args.generated)
        variants = {"unfused": unfused, "fused": fused}
        sessions = {name: make_session(d / "decoder.onnx", args.threads) for name, d in variants.items()}
        times = alternate(decode_steps(sessions, feeds), args.rounds, args.steps)
        print(f"{args.quant} decoder, one step on a {args.prefix}-token prefix and {args.generated} generated, "
              f"{args.threads} threads, {args.rounds} alternating rounds of {args.steps} steps:")
        for name, d in variants.items():
            nodes = len(onnx.load(str(d / "decoder.onnx"), load_external_data=False).graph.node)
            print(f"  {summary(name.ljust(8), times[name])}  {nodes} nodes")


if __name__ == "__main__":
    main()
