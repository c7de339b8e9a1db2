"""Accuracy of exported models on a labelled manifest (e.g. the synthetic held-out split).

    python -m benchmarks.accuracy MANIFEST.jsonl MODEL_DIR [MODEL_DIR ...] [--limit N] [--json OUT] [--stream]
                                  [--aligners ALIGNER_DIR ...]

Prints one markdown row per model: WER for space-delimited languages and CER for Chinese (jiwer, on
lower-cased text with punctuation removed), language-ID accuracy, and real-time factor. Each model
decodes every utterance through the normal runtime (`Transcriber`), greedy, no forced language; with
--stream, also through `Transcriber.stream` (default policy, audio fed in 0.1 s pieces), one more row each.
With --aligners, a second table scores forced aligners against the manifest's exact word times
(`benchmarks.alignment`: AAS and the share of boundaries within 20 / 50 ms).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
import unicodedata
from pathlib import Path

import jiwer

from qwen_asr_edge import Transcriber
from training.train_asr import read_manifest

from . import alignment


def normalize(text: str) -> str:
    """Lower case, punctuation removed, whitespace collapsed (Chinese: spaces dropped)."""
    text = "".join(" " if unicodedata.category(c).startswith("P") else c for c in text.lower())
    return re.sub(r"\s+", " ", text).strip()


def stream_transcribe(asr: Transcriber, path: str) -> tuple[str, str, float]:
    """(language, text, seconds) of a file fed to a stream in 0.1 s pieces."""
    from qwen_asr_edge.audio import load_audio
    from qwen_asr_edge.features import SAMPLE_RATE
    audio = load_audio(path)
    stream = asr.stream()
    for i in range(0, len(audio), SAMPLE_RATE // 10):
        stream.feed(audio[i:i + SAMPLE_RATE // 10])
    final = stream.finish()
    return final.language, final.text, len(audio) / SAMPLE_RATE


def offline_transcribe(asr: Transcriber, path: str) -> tuple[str, str, float]:
    result = asr.transcribe(path)
    return result.language, result.text, result.duration


def evaluate(model_dir: Path, rows: list[dict], threads: int = 0, streaming: bool = False, provider: str = "cpu",
             transcripts: list[str] | None = None) -> dict:
    """Scores of `model_dir` on `rows`; each hypothesis is also appended to `transcripts` when given."""
    asr = Transcriber(model_dir, threads=threads, provider=provider)
    run = stream_transcribe if streaming else offline_transcribe
    refs: dict[str, list[str]] = {}
    hyps: dict[str, list[str]] = {}
    lid, audio_seconds, started = 0, 0.0, time.time()
    for row in rows:
        detected, text, seconds = run(asr, row["audio"])
        audio_seconds += seconds
        language = row.get("language") or ""
        lid += detected == language
        if transcripts is not None:
            transcripts.append(text)
        ref, hyp = normalize(row["text"]), normalize(text)
        if language == "Chinese":
            ref, hyp = ref.replace(" ", ""), hyp.replace(" ", "")
        refs.setdefault(language, []).append(ref)
        hyps.setdefault(language, []).append(hyp)
    label = str(model_dir) + (" (streaming)" if streaming else "") + (f" on {asr.provider}" if provider != "cpu" else "")
    out = {"model": label, "utterances": len(rows), "lid_accuracy": lid / len(rows),
           "rtf": (time.time() - started) / audio_seconds}
    for language, ref in refs.items():
        if language == "Chinese":
            out["cer_Chinese"] = jiwer.cer(ref, hyps[language])
        else:
            out[f"wer_{language or 'unknown'}"] = jiwer.wer(ref, hyps[language])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("models", type=Path, nargs="+")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--stream", action="store_true", help="also measure streaming transcription")
    parser.add_argument("--aligners", type=Path, nargs="+", default=[], help="forced aligners to score too")
    args = parser.parse_args()
    rows = read_manifest(args.manifest)[:args.limit]
    results = [evaluate(m, rows, args.threads, streaming) for m in args.models
               for streaming in ((False, True) if args.stream else (False,))]
    print_table(results)
    if args.aligners:
        aligned = [alignment.evaluate(a, rows, args.threads) for a in args.aligners]
        print()
        alignment.print_table(aligned)
        results += aligned
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def print_table(results: list[dict]) -> None:
    """One markdown row per result of `evaluate`."""
    keys = sorted({k for r in results for k in r} - {"model", "utterances"})
    print("| model | utterances | " + " | ".join(keys) + " |")
    print("|---|---|" + "---|" * len(keys))
    for r in results:
        cells = ["-" if k not in r else f"{r[k] * 100:.2f} %" if k.startswith(("wer", "cer", "lid")) else f"{r[k]:.3f}"
                 for k in keys]
        print(f"| {r['model']} | {r['utterances']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
