"""The official implementation's side of `benchmarks.speed`. Runs in the virtualenv of `qwen-asr` (torch, transformers
4.57), not in ours; prints one JSON object on stdout.

    python official_speed.py asr CKPT --audio A.wav [B.wav ...] --tokens N --tokens-per-second R --threads T --dtype float32|bfloat16 --repeat K
        Per clip, best of K runs: feature extraction, encoder (`thinker.get_audio_features`), time to first token (processor + `generate`
        with 1 new token; prefill = that generate minus the encoder), decode ms per token ((generate N - generate 1) / (N - 1), EOS suppressed with min_new_tokens),
        end to end (processor + generate of R tokens per audio second). Plus load time and peak RSS.
    python official_speed.py cold CKPT --audio A.wav --threads T
        `Qwen3ASRModel.from_pretrained` + `transcribe` (8 new tokens at most): the caller times the whole process.
    python official_speed.py align CKPT --audio A.wav --text T --language L --threads T
        `Qwen3ForcedAligner.from_pretrained` + `align`, best of 2 calls.

The model runs as users get it: `Qwen3ASRModel.from_pretrained(..., dtype=...)`, transformers backend, batch 1, eager CPU.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import soundfile as sf
import torch

from timing import best_of  # benchmarks/timing.py: this script runs from its folder, in the official virtualenv


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _read(path: Path):
    wav, rate = sf.read(str(path), dtype="float32")
    assert rate == 16000 and wav.ndim == 1, path
    return wav


def asr(ckpt: Path, audios: list[Path], tokens: int, tokens_per_second: float, dtype: torch.dtype,
        repeat: int) -> dict:
    from qwen_asr import Qwen3ASRModel

    started = time.perf_counter()
    model_api = Qwen3ASRModel.from_pretrained(str(ckpt), dtype=dtype)
    load = time.perf_counter() - started
    model, processor = model_api.model.eval(), model_api.processor
    prompt = model_api._build_text_prompt(context="", force_language=None)

    def inputs_for(wav):
        return processor(text=[prompt], audio=[wav], return_tensors="pt", padding=True).to(model.dtype)

    def generate(inputs, n: int) -> float:
        started = time.perf_counter()
        out = model.generate(**inputs, max_new_tokens=n, min_new_tokens=n)
        elapsed = time.perf_counter() - started
        assert out.sequences.shape[1] - inputs["input_ids"].shape[1] == n
        return elapsed

    def measure(wav) -> dict:
        started = time.perf_counter()
        inputs = inputs_for(wav)
        features = time.perf_counter() - started
        started = time.perf_counter()
        model.thinker.get_audio_features(inputs["input_features"], feature_attention_mask=inputs["feature_attention_mask"])
        encoder = time.perf_counter() - started
        first = generate(inputs, 1)
        many = generate(inputs, tokens)
        e2e_tokens = round(tokens_per_second * len(wav) / 16000)
        started = time.perf_counter()
        generate(inputs_for(wav), e2e_tokens)
        e2e = time.perf_counter() - started
        return {"features_s": features, "encoder_s": encoder, "ttft_s": features + first,
                "prefill_s": first - encoder, "decode_ms_per_token": (many - first) / (tokens - 1) * 1e3,
                "e2e_s": e2e, "e2e_tokens": e2e_tokens, "prompt_tokens": int(inputs["input_ids"].shape[1])}

    results = {}
    with torch.inference_mode():
        generate(inputs_for(_read(audios[0])[:16000]), 2)  # warm-up
        for path in audios:
            wav = _read(path)
            results[f"{len(wav) / 16000:g}"] = best_of([measure(wav) for _ in range(repeat)])
    return {"load_s": load, "clips": results, "peak_rss_mb": _peak_rss_mb()}


def cold(ckpt: Path, audio: Path) -> dict:
    from qwen_asr import Qwen3ASRModel
    model = Qwen3ASRModel.from_pretrained(str(ckpt), dtype=torch.float32, max_new_tokens=8)
    result = model.transcribe(audio=str(audio))[0]
    return {"text": result.text}


def align(ckpt: Path, audio: Path, text: str, language: str) -> dict:
    from qwen_asr import Qwen3ForcedAligner
    started = time.perf_counter()
    aligner = Qwen3ForcedAligner.from_pretrained(str(ckpt), dtype=torch.float32)
    load = time.perf_counter() - started
    wav = _read(audio)
    times = []
    with torch.inference_mode():
        for _ in range(2):
            started = time.perf_counter()
            words = aligner.align(audio=(wav, 16000), text=text, language=language)[0]
            times.append(time.perf_counter() - started)
    return {"load_s": load, "align_s": min(times), "words": len(words.items), "peak_rss_mb": _peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=("asr", "cold", "align"))
    parser.add_argument("ckpt", type=Path)
    parser.add_argument("--audio", type=Path, nargs="+", required=True)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--tokens-per-second", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each clip's measurements; the best is kept")
    parser.add_argument("--dtype", default="float32", choices=("float32", "bfloat16"))
    parser.add_argument("--text", default="")
    parser.add_argument("--language", default="English")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.command == "asr":
        result = asr(args.ckpt, args.audio, args.tokens, args.tokens_per_second, getattr(torch, args.dtype), args.repeat)
    elif args.command == "cold":
        result = cold(args.ckpt, args.audio[0])
    else:
        result = align(args.ckpt, args.audio[0], args.text, args.language)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
