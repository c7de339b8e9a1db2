"""Greedy transcripts of the same clips on two machines (x86_64, emulated aarch64), compared token by token.

    python scripts/arm64_compare.py clips MANIFEST OUT_DIR [--per-language 3]
    python scripts/arm64_compare.py pins
    python scripts/arm64_compare.py run OUT.json --expect-backend native|numpy --model NAME=DIR ... CLIPS...
    python scripts/arm64_compare.py compare REF.json OTHER.json [REF.json OTHER.json ...]

`run` transcribes every clip with every model on one ONNX Runtime thread and writes the generated token
ids and, for every decoding step, the top-3 logits. `compare` prints one PASS/FAIL line per (model,
feature backend) and exits 1 on any FAIL. fp32 must give identical tokens. Quantized models (MatMulNBits with
int8 activations, whose ARM and x86 kernels round differently) may diverge only at a near tie: at the first
differing step each machine's top-1 token is in the other's top 8 (top 3 in runs before 2026-12) and, on both machines, the relative margin
(logit of its top-1 - logit of the other machine's token) / max(|logit of its top-1|, 1) is below the
rounding noise measured on that model: twice the largest relative difference of the two machines' top-1
logits on the steps where they still agreed (at least `--tie`, 1e-3). That noise itself must stay below
`--max-drift` (5e-2), so a broken kernel cannot pass by making everything a tie. Random-weight models have
nearly flat logits (margins of 1e-3 are common), so they diverge far more often than a trained one.
"""
from __future__ import annotations

import argparse
import json
import platform
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TOP_K = 8
TIE = 1e-3
MAX_DRIFT = 5e-2
# Linux arm64 hwcaps that pick ONNX Runtime's int8 kernels: (auxv entry AT_HWCAP or AT_HWCAP2, bit)
ARM_FEATURES = {"dotprod": (16, 1 << 20), "i8mm": (26, 1 << 13), "sve": (16, 1 << 22)}


def select_clips(manifest: Path, out_dir: Path, per_language: int) -> list[Path]:
    """Copy the first `per_language` clips of each language of a training.synth manifest into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    taken: dict[str, int] = {}
    copied = []
    for line in manifest.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if taken.get(row["language"], 0) < per_language:
            taken[row["language"]] = taken.get(row["language"], 0) + 1
            copied.append(Path(shutil.copy(manifest.parent / row["audio"], out_dir / Path(row["audio"]).name)))
    if len(taken) < 2 or min(taken.values()) < per_language:
        raise SystemExit(f"{manifest}: fewer than {per_language} clips of some language ({taken})")
    return copied


def runtime_pins() -> list[str]:
    """`name==version` of the installed package's runtime dependencies, to install the same on the other machine."""
    from importlib.metadata import requires, version
    names = [re.match(r"[\w.-]+", r)[0] for r in requires("qwen-asr-edge") or [] if "extra ==" not in r]
    return [f"{name}=={version(name)}" for name in names]


def arm_features() -> list[str]:
    """Which of dotprod / i8mm / sve this aarch64 CPU (or qemu's model of one) reports; [] on other machines."""
    if platform.machine() != "aarch64":
        return []
    auxv = dict(np.fromfile("/proc/self/auxv", dtype=np.uint64).reshape(-1, 2).tolist())
    return [name for name, (key, bit) in ARM_FEATURES.items() if auxv.get(key, 0) & bit]


def transcribe_all(model_dir: Path, clips: list[Path], threads: int) -> list[dict]:
    """Per clip: text, language, and per window the tokens and each step's top-k (token id, logit)."""
    from qwen_asr_edge import Transcriber

    class Recording(Transcriber):
        """The normal pipeline; every window's generation is also kept with its per-step logits."""
        def generate(self, audio, context="", language=None, keep_logits=False):
            generation = super().generate(audio, context, language, keep_logits=True)
            self.generations.append(generation)
            return generation

    asr = Recording(model_dir, threads=threads)
    records = []
    for clip in clips:
        asr.generations = []
        result = asr.transcribe(clip)
        windows = []
        for generation in asr.generations:
            top = [np.argsort(-logits, kind="stable")[:TOP_K] for logits in generation.logits]
            windows.append({"tokens": list(generation.tokens),
                            "top": [[[int(i), float(logits[i])] for i in ids] for ids, logits in zip(top, generation.logits)]})
        records.append({"clip": clip.name, "language": result.language, "text": result.text, "windows": windows})
    return records


def run(out: Path, label: str, models: dict[str, Path], clips: list[Path], expect_backend: str, threads: int) -> None:
    import onnxruntime

    from qwen_asr_edge import features
    if features.BACKEND != expect_backend:
        raise SystemExit(f"features backend is {features.BACKEND}, expected {expect_backend} "
                         f"({features.NATIVE_UNAVAILABLE_REASON or 'native in use'})")
    report = {"label": label, "machine": platform.machine(), "cpu_features": arm_features(),
              "backend": features.BACKEND, "threads": threads,
              "onnxruntime": onnxruntime.__version__, "numpy": np.__version__,
              "models": {name: transcribe_all(path, clips, threads) for name, path in models.items()}}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")


def relative_margin(top: list, token: int) -> float | None:
    """(top-1 logit - logit of `token`) / max(|top-1 logit|, 1); None when `token` is not in the top-k."""
    logits = dict((int(i), v) for i, v in top)
    return None if token not in logits else (top[0][1] - logits[token]) / max(abs(top[0][1]), 1.0)


@dataclass
class Divergence:
    clip: str
    step: int
    tokens: tuple[int, int]
    margins: tuple[float | None, float | None]

    def near_tie(self, tie: float) -> bool:
        return all(m is not None and m < tie for m in self.margins)

    def __str__(self) -> str:
        shown = "/".join("not in top-k" if m is None else f"{m:.1e}" for m in self.margins)
        return f"{self.clip} step {self.step}: {self.tokens[0]} vs {self.tokens[1]}, margins {shown}"


def first_divergence(clip: str, ref: dict, other: dict) -> tuple[Divergence | None, float]:
    """The first step where the two machines chose different tokens (None if they never do), and the
    largest relative difference of the top-1 logit over the steps before it."""
    drift, offset = 0.0, 0
    for a, b in zip(ref["windows"], other["windows"], strict=True):
        for step, (top_a, top_b) in enumerate(zip(a["top"], b["top"])):
            chosen = (top_a[0][0], top_b[0][0])
            if chosen[0] != chosen[1]:
                return Divergence(clip, offset + step, chosen,
                                  (relative_margin(top_a, chosen[1]), relative_margin(top_b, chosen[0]))), drift
            drift = max(drift, abs(top_a[0][1] - top_b[0][1]) / max(abs(top_a[0][1]), 1.0))
        offset += len(a["top"])
    return None, drift


def compare(ref_path: Path, other_path: Path, tie: float, max_drift: float) -> bool:
    """Print one line per model for this pair of runs; True if all pass."""
    ref, other = (json.loads(p.read_text(encoding="utf-8")) for p in (ref_path, other_path))
    if ref["backend"] != other["backend"]:
        raise SystemExit(f"{ref_path} and {other_path} used different feature backends")
    machine = f"{other['label']} [{','.join(other['cpu_features']) or 'no dotprod/i8mm/sve'}]"
    ok = True
    for name, records in ref["models"].items():
        results = [first_divergence(r["clip"], r, o) for r, o in zip(records, other["models"][name], strict=True)]
        divergences = [d for d, _ in results if d is not None]
        drift = max(d for _, d in results)
        threshold = max(tie, 2 * drift)
        exact = name == "fp32"
        passed = not divergences or (not exact and drift <= max_drift and all(d.near_tie(threshold) for d in divergences))
        ok &= passed
        detail = "; ".join(f"{'near tie' if d.near_tie(threshold) else 'NOT a near tie'}: {d}" for d in divergences)
        print(f"{'PASS' if passed else 'FAIL'}  {name:<7} {ref['backend']:<6} {machine:<40} {len(records) - len(divergences)}/{len(records)} "
              f"clips token-identical, top-1 logit rel. diff <= {drift:.1e}"
              + (f" (tie threshold {threshold:.1e})" if divergences and not exact else "")
              + (f"; {detail}" if detail else ""))
    return ok


def print_transcripts(path: Path) -> None:
    report = json.loads(path.read_text(encoding="utf-8"))
    print(f"transcripts ({report['machine']}, {report['backend']} features, onnxruntime {report['onnxruntime']}):")
    for name, records in report["models"].items():
        for r in records:
            print(f"  {name:<7} {r['clip']:<26} {r['language'] or '-':<8} {r['text']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("clips", help="copy the first clips of each language of a manifest")
    p.add_argument("manifest", type=Path)
    p.add_argument("out_dir", type=Path)
    p.add_argument("--per-language", type=int, default=3)
    sub.add_parser("pins", help="print name==version of the installed package's runtime dependencies")
    p = sub.add_parser("run", help="transcribe clips with models, write JSON")
    p.add_argument("out", type=Path)
    p.add_argument("clips", type=Path, nargs="+")
    p.add_argument("--label", default=platform.machine(), help="names this machine in the comparison")
    p.add_argument("--model", action="append", required=True, metavar="NAME=DIR")
    p.add_argument("--expect-backend", choices=["native", "numpy"], required=True)
    p.add_argument("--threads", type=int, default=1)
    p = sub.add_parser("compare", help="PASS/FAIL per model for pairs of run outputs (reference first)")
    p.add_argument("pairs", type=Path, nargs="+")
    p.add_argument("--tie", type=float, default=TIE)
    p.add_argument("--max-drift", type=float, default=MAX_DRIFT)
    args = parser.parse_args()
    if args.command == "clips":
        print("\n".join(map(str, select_clips(args.manifest, args.out_dir, args.per_language))))
    elif args.command == "pins":
        print("\n".join(runtime_pins()))
    elif args.command == "run":
        models = {name: Path(path) for name, _, path in (m.partition("=") for m in args.model)}
        run(args.out, args.label, models, args.clips, args.expect_backend, args.threads)
    else:
        if len(args.pairs) % 2:
            parser.error("compare takes pairs of files")
        print_transcripts(args.pairs[0])
        results = [compare(a, b, args.tie, args.max_drift) for a, b in zip(args.pairs[::2], args.pairs[1::2])]
        sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
