"""The NPU path of a trained model on QNN's HTP backend (emulated on x86 by the onnxruntime-qnn wheel).

    python -m benchmarks.npu CKPT_DIR DATA_DIR [--limit 8] [--calibration 24] [--work DIR]

From the checkpoint it exports the usual fp32 graphs and the static ones (`export --static`), quantizes the
static ones to a16w8 QDQ calibrated on the first `--calibration` utterances of DATA_DIR/train, then
  - loads every QDQ graph on the HTP with CPU fallback disabled and says whether all its nodes were taken
    (else the session error names the nodes left out),
  - transcribes the first `--limit` utterances of DATA_DIR/heldout with: fp32 dynamic (CPU), fp32 static
    (CPU), QDQ static (CPU EP) and QDQ static (HTP), printing WER/CER per model and how many HTP transcripts
    equal the CPU QDQ ones.
Emulated HTP runs about 2 s per graph call on 2 cores, so keep --limit small. Timings are not NPU speeds.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import onnx

from qwen_asr_edge.errors import QwenAsrEdgeError
from qwen_asr_edge.export import export_checkpoint
from qwen_asr_edge.model_dir import open_model_dir
from qwen_asr_edge.quantize.pipeline import quantize_model_dir
from qwen_asr_edge.sessions import make_session, qnn_devices
from training.train_asr import read_manifest

from .accuracy import evaluate, print_table


def _build(path: Path, make) -> Path:
    if not (path / "manifest.json").is_file():
        make(path)
    return path


def htp_placement(model_dir: Path) -> list[str]:
    """One line per graph: its node count and whether the HTP takes all of them."""
    model = open_model_dir(model_dir)
    lines = []
    for name, meta in model.manifest["graphs"].items():
        nodes = len(onnx.load(str(model_dir / meta["file"]), load_external_data=False).graph.node)
        t0 = time.time()
        try:
            make_session(model.graph(name), provider="qnn", strict=True)
            verdict = "all nodes on HTP (CPU fallback disabled)"
        except QwenAsrEdgeError as exc:
            verdict = f"not whole on HTP: {exc}"
        lines.append(f"{name}: {nodes} nodes, {verdict}, loaded in {time.time() - t0:.1f} s")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("data", type=Path, help="folder with train/ and heldout/ manifests (training.synth)")
    parser.add_argument("--limit", type=int, default=8, help="held-out utterances to transcribe [8]")
    parser.add_argument("--calibration", type=int, default=24, help="training utterances to calibrate on [24]")
    parser.add_argument("--work", type=Path, default=Path("out/npu"), help="where the exports go [out/npu]")
    args = parser.parse_args()
    if qnn_devices() is None:
        print("error: benchmarks.npu needs onnxruntime-qnn (pip install onnxruntime-qnn)", file=sys.stderr)
        return 2
    quiet = lambda msg: None
    calibration = [row["audio"] for row in read_manifest(args.data / "train" / "manifest.jsonl")[:args.calibration]]
    fp32 = _build(args.work / "fp32", lambda p: export_checkpoint(args.checkpoint, p, log=quiet))
    static = _build(args.work / "static", lambda p: export_checkpoint(args.checkpoint, p, static=True, log=quiet))
    qdq = _build(args.work / "static-qdq", lambda p: quantize_model_dir(static, p, "qdq", calibration=calibration,
                                                                         log=quiet))
    print("## QDQ static graphs on the HTP\n")
    for line in htp_placement(qdq):
        print(f"- {line}")
    rows = read_manifest(args.data / "heldout" / "manifest.jsonl")[:args.limit]
    cpu_texts: list[str] = []
    htp_texts: list[str] = []
    results = [evaluate(fp32, rows), evaluate(static, rows), evaluate(qdq, rows, transcripts=cpu_texts),
               evaluate(qdq, rows, provider="qnn", transcripts=htp_texts)]
    print(f"\n## {len(rows)} held-out utterances (rtf: emulation on this CPU, not an NPU speed)\n")
    print_table(results)
    same = sum(a == b for a, b in zip(cpu_texts, htp_texts))
    print(f"\nHTP transcripts equal to the CPU QDQ ones: {same} of {len(rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
