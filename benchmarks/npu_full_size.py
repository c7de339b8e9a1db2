"""Does QNN's HTP take a full-size 0.6B decoder stack? A load check of the static decoder step graph.

    python -m benchmarks.npu_full_size [--layers 28] [--kv-capacity 1024] [--work out/npu-full]

Builds the static one-token decoder graph (export/static_export.py: all 28 layers of the 0.6B config, hidden
1024, 16 query / 8 KV heads of 128, KV buffer of --kv-capacity slots; the head is left out, it is one more
MatMul) from the cached random-weight full-size checkpoint (benchmarks.quantization.random_checkpoint),
quantizes it to a16w8 QDQ on every op, then creates a QNN HTP session with CPU fallback disabled and runs
one step on the HTP and on the CPU EP. Calibration feeds are synthetic (token-table rows as embeddings,
real RoPE tables and masks, random K/V): enough for a load check, not for accuracy, which
benchmarks.npu measures on the trained tiny model. Needs about 12 GB of memory and a few minutes per phase.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx

from qwen_asr_edge.errors import QwenAsrEdgeError
from qwen_asr_edge.export.exporter import STATIC_MASK_BIAS, load_reference_model
from qwen_asr_edge.export.static_export import export_static_decoder
from qwen_asr_edge.quantize.qdq import apply_qdq
from qwen_asr_edge.sessions import make_session, qnn_devices

from .quantization import random_checkpoint


def synthetic_feeds(model, kv_capacity: int, count: int, seed: int = 0) -> list[dict]:
    """Decoder-step feeds of realistic scale: a token-table row, RoPE at a random position, a random fill."""
    rng = np.random.default_rng(seed)
    t = model.cfg.text
    table = model.model.embed_tokens.weight.detach().numpy()
    inv_freq = model.model.inv_freq.numpy()
    feeds = []
    for _ in range(count):
        filled = int(rng.integers(1, kv_capacity))
        angles = np.float32(filled) * inv_freq
        angles = np.concatenate([angles, angles])[None, None].astype(np.float32)
        bias = np.full((1, 1, 1, kv_capacity + 1), STATIC_MASK_BIAS, np.float32)
        bias[..., :filled] = 0.0
        bias[..., -1] = 0.0
        feed = {"inputs_embeds": table[rng.integers(0, len(table), (1, 1))].astype(np.float32),
                "rope_cos": np.cos(angles), "rope_sin": np.sin(angles), "attention_bias": bias,
                "last_index": np.zeros(1, np.int64)}
        for i in range(t.num_hidden_layers):
            for kind in ("key", "value"):
                feed[f"past.{i}.{kind}"] = rng.standard_normal((1, t.num_key_value_heads, kv_capacity, t.head_dim),
                                                               dtype=np.float32)
        feeds.append(feed)
    return feeds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=28, help="decoder layers to keep [28: all of the 0.6B]")
    parser.add_argument("--kv-capacity", type=int, default=1024)
    parser.add_argument("--calibration", type=int, default=4, help="synthetic calibration feeds [4]")
    parser.add_argument("--work", type=Path, default=Path("out/npu-full"))
    args = parser.parse_args()
    if qnn_devices() is None:
        print("error: benchmarks.npu_full_size needs onnxruntime-qnn (pip install onnxruntime-qnn)", file=sys.stderr)
        return 2
    args.work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    model = load_reference_model(random_checkpoint("full-0.6b"))
    model.model.layers = model.model.layers[:args.layers]
    model.cfg = replace(model.cfg, text=replace(model.cfg.text, num_hidden_layers=args.layers))
    graph = args.work / "decoder.onnx"
    export_static_decoder(model, graph, 1, args.kv_capacity)
    print(f"exported the static step graph ({args.layers} layers, KV capacity {args.kv_capacity}) in {time.time() - t0:.0f} s")
    feeds = synthetic_feeds(model, args.kv_capacity, args.calibration + 1)
    del model
    apply_qdq(args.work, {"decoder": graph.name}, {"decoder": feeds[1:]}, print, every_op=True)
    nodes = len(onnx.load(str(graph), load_external_data=False).graph.node)
    t0 = time.time()
    try:
        htp = make_session(graph, provider="qnn", strict=True)
    except QwenAsrEdgeError as exc:
        print(f"QDQ decoder step, {nodes} nodes: NOT whole on the HTP: {exc}")
        return 1
    print(f"QDQ decoder step, {nodes} nodes: all on the HTP with CPU fallback disabled (session in {time.time() - t0:.0f} s)")
    t0 = time.time()
    got = htp.run(None, feeds[0])
    htp_seconds = time.time() - t0
    want = make_session(graph).run(None, feeds[0])
    error = max(float(np.abs(g - w).max() / max(np.abs(w).max(), 1e-6)) for g, w in zip(got, want))
    print(f"one step: emulated HTP {htp_seconds:.1f} s (not an NPU speed); max relative difference to the CPU EP's "
          f"QDQ result over all outputs {error:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
