"""Cost per chunk of streaming on a full-size configuration: bounded, against the official re-encode algorithm.

    python -m benchmarks.streaming [--config full-0.6b] [--quant int4] [--seconds 300] [--tokens 8] [--threads 2]
                                   [--out FILE]

The input is speech with pauses: the bundled samples, repeated, 1 s of silence after each. Random weights
stop at random places, so every chunk generates exactly `--tokens` tokens (EOS ignored). In fresh processes
(honest peak RSS), the stream runs over 60 s and over `--seconds` with the default policy (2 s chunks,
segments cut at pauses); printed: the compute time of chunk 5 and chunk 145 and their ratio (target <= 1.3),
the same ratio fitted over every chunk doing chunk 5's work (`same_work_growth`: single chunks of about 1 s
move by 15-45 % between runs on this host), the mean per-chunk latency (target <= 1.0 s for a 2 s chunk),
the peak RSS at 60 s and at the full length (target: within 10 %). Beside them, the official algorithm (re-encode all audio and re-prefill the whole
prompt every chunk, no segments) run with the same graphs (`ReencodeStream`), timed at chunks 5 and 145
only: its prefix there is the length the unsegmented stream would have (3 tokens more per chunk after the
first two: 8 generated, 5 rolled back).
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from qwen_asr_edge.decoding import Generation, greedy_decode, relative_margins
from qwen_asr_edge.features import SAMPLE_RATE, log_mel_spectrogram
from qwen_asr_edge.prompt import prompt_text
from qwen_asr_edge.streaming import Stream, StreamOptions

from .quantization import REPO, _ort_version, build_models, peak_rss_mb

FEED_SECONDS = 0.1  # piece size, as a microphone callback would deliver


def reencode_generate(asr, audio: np.ndarray, prompt: str, max_new_tokens: int, eos_ids: tuple[int, ...],
                      keep_logits: bool = False) -> tuple[Generation, int, int]:
    """One official streaming step: log-mel, encoder and prefill of everything, then greedy decoding;
    (generation, audio tokens, prompt length)."""
    embeds = asr.encoder(log_mel_spectrogram(audio))
    ids = asr.tokenizer.ids_with_audio(prompt, len(embeds))
    prompt_embeds = asr.decoder.embed(ids)
    prompt_embeds[ids == asr.tokenizer.audio_token_id] = embeds
    generation = greedy_decode(asr.decoder, prompt_embeds, eos_ids, max_new_tokens, keep_logits)
    return generation, len(embeds), len(ids)


class ReencodeStream(Stream):
    """The official algorithm on our graphs: same policy, every chunk recomputed from the first sample.
    `margins[n]` holds chunk n's per-step relative top-1/top-2 logit margins (the EOS step included)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.margins: list[np.ndarray] = []

    def _generate(self, audio: np.ndarray, prefix: str) -> tuple[tuple[int, ...], int, int]:
        if getattr(self, "_accum_segment", None) is not self.segment:
            self._accum_segment, self._accum = self.segment, np.zeros(0, dtype=np.float32)
        self._accum = np.concatenate([self._accum, audio])
        generation, audio_tokens, prefilled = reencode_generate(
            self.asr, self._accum, self.segment.base_text + prefix, self.options.max_new_tokens, self.eos_ids,
            keep_logits=True)
        self.margins.append(relative_margins(np.stack(generation.logits)))
        return generation.tokens, audio_tokens, prefilled


def speech_with_pauses(seconds: float) -> np.ndarray:
    from qwen_asr_edge.audio import load_audio
    pause = np.zeros(SAMPLE_RATE, dtype=np.float32)
    pieces = [part for name in ("en_office_temperature.wav", "zh_timer.wav")
              for part in (load_audio(REPO / "samples" / name), pause)]
    one = np.concatenate(pieces)
    return np.resize(one, int(seconds * SAMPLE_RATE))


def run_stream(model_dir: Path, seconds: float, tokens: int, threads: int) -> dict:
    """Stream `seconds` of speech with pauses through the default policy; per-chunk compute times, peak RSS."""
    from qwen_asr_edge import Transcriber
    asr = Transcriber(model_dir, threads=threads)
    audio = speech_with_pauses(seconds)
    chunks = []
    stream = Stream(asr, options=StreamOptions(max_new_tokens=tokens), on_chunk=chunks.append, stop_at_eos=False)
    piece = int(FEED_SECONDS * SAMPLE_RATE)
    for i in range(0, len(audio), piece):
        stream.feed(audio[i:i + piece])
    stream.finish()
    return {"seconds": [c.seconds for c in chunks], "prefilled": [c.prefilled for c in chunks],
            "segments": chunks[-1].segment + 1, "peak_rss_mb": peak_rss_mb()}


def same_work_growth(seconds: list[float], prefilled: list[int], early: int, late: int) -> tuple[float, int]:
    """(fitted compute time at chunk `late` / at chunk `early`, chunks fitted): a least-squares line through
    the times of every chunk that prefills as many tokens as chunk `early` (the same phase of its segment, so
    the same work), i.e. the growth with the stream's length alone."""
    same = [i for i, n in enumerate(prefilled) if n == prefilled[early]]
    slope, intercept = np.polyfit(same, np.asarray(seconds)[same], 1)
    return (intercept + slope * late) / (intercept + slope * early), len(same)


def time_reencode(model_dir: Path, chunk: int, tokens: int, threads: int) -> float:
    """Compute time of the official algorithm's chunk `chunk` (0-based) of an unsegmented stream."""
    from qwen_asr_edge import Transcriber
    asr = Transcriber(model_dir, threads=threads)
    audio = speech_with_pauses(2.0 * (chunk + 1))
    prompt = prompt_text("", None)
    prefix = "language English<asr_text>" + " go" * (3 * max(0, chunk - 2))
    reencode_generate(asr, audio[:2 * SAMPLE_RATE], prompt, 2, ())  # warm-up
    started = time.perf_counter()
    reencode_generate(asr, audio, prompt + prefix, tokens, ())
    return time.perf_counter() - started


def _child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-m", "benchmarks.streaming", *args], cwd=REPO, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="full-0.6b")
    parser.add_argument("--quant", default="int4", choices=("fp32", "int8", "int4"))
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--tokens", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--child", choices=("stream", "reencode"), help=argparse.SUPPRESS)
    parser.add_argument("--model", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--chunk", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "stream":
        print(json.dumps(run_stream(args.model, args.seconds, args.tokens, args.threads)))
        return
    if args.child == "reencode":
        print(json.dumps({"seconds": time_reencode(args.model, args.chunk, args.tokens, args.threads)}))
        return

    model = build_models(args.config)[args.quant]
    common = ["--model", str(model), "--tokens", str(args.tokens), "--threads", str(args.threads)]
    print(f"streaming {args.seconds:g} s and 60 s through {model} ...", file=sys.stderr)
    long = _child(["--child", "stream", "--seconds", str(args.seconds), *common])
    short = _child(["--child", "stream", "--seconds", "60", *common])
    late = min(145, len(long["seconds"]) - 1)
    reencode = {k: _child(["--child", "reencode", "--chunk", str(k), *common])["seconds"] for k in (5, late)}
    per_chunk = long["seconds"]
    growth, fitted = same_work_growth(per_chunk, long["prefilled"], 5, late)
    rows = [
        ("chunk 5 compute s", f"{per_chunk[5]:.3f}", f"{reencode[5]:.3f}"),
        (f"chunk {late} compute s", f"{per_chunk[late]:.3f}", f"{reencode[late]:.3f}"),
        (f"chunk {late} / chunk 5 (target <= 1.3)", f"{per_chunk[late] / per_chunk[5]:.2f}",
         f"{reencode[late] / reencode[5]:.2f}"),
        (f"the same, fitted over the {fitted} chunks that prefill {long['prefilled'][5]} tokens like chunk 5",
         f"{growth:.2f}", ""),
        ("mean per-chunk latency s (target <= 1.0)", f"{np.mean(per_chunk):.3f}", ""),
        ("max per-chunk latency s", f"{np.max(per_chunk):.3f}", ""),
        ("segments", str(long["segments"]), "1"),
        ("peak RSS MB at 60 s", f"{short['peak_rss_mb']:.0f}", ""),
        (f"peak RSS MB at {args.seconds:g} s (target: within 10 %)",
         f"{long['peak_rss_mb']:.0f} ({long['peak_rss_mb'] / short['peak_rss_mb']:.2f}x)", ""),
    ]
    text = "\n".join([
        f"Config `{args.config}` {args.quant} (random weights), {args.seconds:g} s of speech with pauses, 2 s chunks, "
        f"{args.tokens} generated tokens per chunk, {args.threads} threads; {platform.processor() or platform.machine()}, "
        f"onnxruntime {_ort_version()}.", "",
        "| figure | ours (chunked cache, segments) | official re-encode, our graphs |", "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows]]) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
