"""Word-timestamp accuracy of exported forced aligners against exact ground truth (synthetic held-out set).

    python -m benchmarks.alignment MANIFEST.jsonl ALIGNER_DIR [ALIGNER_DIR ...] [--limit N] [--threads N]

Each manifest line carries `words` with the exact start/end of every word (training.synth synthesizes
words one by one). Each aligner aligns the reference text (the runtime's word splitting must give the
manifest's words); printed per model: AAS, the mean over words of (|start error| + |end error|) / 2 in ms,
the share of word boundaries within 20 ms and 50 ms, and the real-time factor.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from qwen_asr_edge.aligner import Aligner
from training.train_asr import read_manifest


def evaluate(model_dir: Path, rows: list[dict], threads: int = 0) -> dict:
    aligner = Aligner(model_dir, threads=threads)
    errors, audio_seconds, started = [], 0.0, time.time()
    for row in rows:
        words = aligner.align(row["audio"], row["text"], row.get("language") or "English")
        truth = row["words"]
        if [w.text for w in words] != [t["text"] for t in truth]:
            raise SystemExit(f"{row['audio']}: aligner words differ from the manifest's")
        errors += [abs(w.start - t["start"]) for w, t in zip(words, truth)]
        errors += [abs(w.end - t["end"]) for w, t in zip(words, truth)]
        audio_seconds += truth[-1]["end"] if truth else 0.0
    ms = np.array(errors) * 1000.0
    return {"model": str(model_dir), "utterances": len(rows), "words": len(ms) // 2, "aas_ms": float(ms.mean()),
            "within_20ms": float((ms <= 20).mean()), "within_50ms": float((ms <= 50).mean()),
            "rtf": (time.time() - started) / max(audio_seconds, 1e-9)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("models", type=Path, nargs="+")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    rows = read_manifest(args.manifest)[:args.limit]
    print_table([evaluate(model, rows, args.threads) for model in args.models])


def print_table(results: list[dict]) -> None:
    """One markdown row per result of `evaluate`."""
    print("| model | utterances | words | AAS ms | boundaries within 20 ms | within 50 ms | RTF |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['model']} | {r['utterances']} | {r['words']} | {r['aas_ms']:.1f} | {r['within_20ms'] * 100:.1f} % "
              f"| {r['within_50ms'] * 100:.1f} % | {r['rtf']:.3f} |")


if __name__ == "__main__":
    sys.exit(main())
