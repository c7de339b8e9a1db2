"""ONNX Runtime Mobile usability-checker reports for every graph of an exported model directory.

    python scripts/mobile_usability.py MODEL_DIR OUT_DIR

Runs `python -m onnxruntime.tools.check_onnx_model_mobile_usability` on each graph of the manifest. It covers
NNAPI and CoreML only, not QNN or XNNPACK, and optimizes the graph to the basic level first, as the ORT-format
conversion does. Its output is saved as OUT_DIR/<graph>.txt and the verdicts as a table in OUT_DIR/summary.md.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

PARTITIONS = re.compile(r"(\d+) partitions with a total of (\d+)/(\d+) nodes can be handled by the (.+) EP\.")
VERDICT = re.compile(r"Model should perform well with (.+?) (as is|if modified to have fixed input shapes): (\w+)")


def usability_report(graph: Path) -> str:
    """The checker's output for `graph` (run in the graph's directory, so the report names only the file)."""
    proc = subprocess.run([sys.executable, "-m", "onnxruntime.tools.check_onnx_model_mobile_usability", graph.name],
                          cwd=graph.parent, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"usability checker failed on {graph}:\n{proc.stderr[-3000:]}")
    return proc.stdout + proc.stderr


def verdicts(report: str) -> list[dict]:
    """Per EP and shape case (as is, fixed shapes): nodes taken, partitions and the checker's verdict."""
    rows, partitions = [], None
    for line in report.splitlines():
        if match := PARTITIONS.search(line):
            partitions = match.groups()
        elif match := VERDICT.search(line):
            ep, case, verdict = match.groups()
            count, taken, total, _ = partitions
            rows.append({"ep": ep, "shapes": "as is" if case == "as is" else "fixed", "nodes": f"{taken}/{total}",
                         "partitions": int(count), "verdict": verdict})
    return rows


def write_reports(model_dir: Path, out_dir: Path) -> str:
    """Write OUT_DIR/<graph>.txt and OUT_DIR/summary.md for every graph of `model_dir`; returns the summary."""
    manifest = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = [f"Usability-checker verdicts for the {manifest['kind']} graphs "
             f"({manifest['quantization'].get('recipe')}), made by scripts/mobile_usability.py.", "",
             "| graph | EP | shapes | nodes taken | partitions | should perform well |", "|---|---|---|---|---|---|"]
    for name, meta in manifest["graphs"].items():
        report = usability_report(model_dir / meta["file"])
        (out_dir / f"{name}.txt").write_text(report, encoding="utf-8")
        lines += [f"| {name} | {r['ep']} | {r['shapes']} | {r['nodes']} | {r['partitions']} | {r['verdict']} |"
                  for r in verdicts(report)]
    summary = "\n".join(lines) + "\n"
    (out_dir / "summary.md").write_text(summary, encoding="utf-8")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args()
    print(write_reports(args.model_dir, args.out_dir), end="")


if __name__ == "__main__":
    main()
