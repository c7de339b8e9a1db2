"""Where the memory goes: resident and peak RSS after each stage of one transcription.

    python -m benchmarks.memory MODEL_DIR AUDIO [--tokens 180] [--threads 2]

Stages: imports, model load (every graph session, the token table, the tokenizer), the encoder on AUDIO,
then a whole transcription of AUDIO (windows, prefill, greedy decoding of exactly `--tokens` tokens per
window: EOS is ignored, as random-weight models stop anywhere). Linux (/proc/self/status: VmRSS, VmHWM).
`python -m benchmarks.speed` measures the peak against the official package in the same run.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from .quantization import peak_rss_mb, resident_mb


def report(stage: str, seconds: float | None = None) -> None:
    took = "" if seconds is None else f" ({seconds:.2f} s)"
    print(f"{stage + took:<26} RSS {resident_mb():6.0f} MiB   peak {peak_rss_mb():6.0f} MiB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("audio", type=Path)
    parser.add_argument("--tokens", type=int, default=180, help="tokens generated per window [180]")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    from qwen_asr_edge import Transcriber
    from qwen_asr_edge.audio import load_audio
    from qwen_asr_edge.features import log_mel_spectrogram

    report("imports")
    started = time.perf_counter()
    asr = Transcriber(args.model, threads=args.threads, max_new_tokens=args.tokens)
    asr.eos_ids = ()
    report("model loaded", time.perf_counter() - started)
    started = time.perf_counter()
    asr.encoder(log_mel_spectrogram(load_audio(args.audio)))
    report("encoder", time.perf_counter() - started)
    started = time.perf_counter()
    asr.transcribe(args.audio)
    report("transcription", time.perf_counter() - started)


if __name__ == "__main__":
    main()
