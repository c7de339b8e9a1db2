"""Per-step cost of beam search against greedy decoding, same model, same run.

    python -m benchmarks.beam [MODEL_DIR] [--beam 4] [--steps 48] [--threads 2] [--repeat 3]

MODEL_DIR defaults to the cached full-size 0.6B int4 export of `benchmarks.quantization` (built if
missing). Both decoders run a fixed number of steps on 10 s of speech (greedy fed fixed tokens, beam
search with no stop token), so the per-step time is (total - prefill) / steps, the prefill being timed
on its own. Prints both and their ratio; also the selection step alone, native and numpy.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from qwen_asr_edge import Transcriber
from qwen_asr_edge.audio import load_audio
from qwen_asr_edge.beam import beam_search, beam_step_numpy, native_beam_step
from qwen_asr_edge.decoding import greedy_decode
from qwen_asr_edge.features import SAMPLE_RATE, log_mel_spectrogram

REPO = Path(__file__).resolve().parents[1]


def _best_of(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, nargs="?")
    parser.add_argument("--beam", type=int, default=4)
    parser.add_argument("--steps", type=int, default=48)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the fastest is kept")
    args = parser.parse_args()
    if args.model is None:
        from .quantization import build_models
        args.model = build_models("full-0.6b")["int4"]
    asr = Transcriber(args.model, threads=args.threads)
    audio = np.resize(load_audio(REPO / "samples" / "en_office_temperature.wav"), 10 * SAMPLE_RATE)
    ids, prompt = asr.prompt_embeds(asr.encoder(log_mel_spectrogram(audio)))
    empty = asr.decoder.empty_cache()
    forced = np.random.default_rng(0).integers(0, 150000, args.steps).tolist()
    prefill = _best_of(args.repeat, lambda: asr.decoder.run(prompt[None], np.arange(len(ids))[None], empty, empty))
    greedy = _best_of(args.repeat, lambda: greedy_decode(asr.decoder, prompt, asr.eos_ids, args.steps, forced=forced))
    beam = _best_of(args.repeat, lambda: beam_search(asr.decoder, prompt, (), args.steps + 1, beam=args.beam))
    greedy_step = (greedy - prefill) / args.steps  # greedy: `steps` decoder calls after the prefill
    beam_step_time = (beam - prefill) / args.steps  # beam search: `steps` calls after the prefill too
    logits = np.random.default_rng(1).standard_normal((args.beam, asr.decoder.embed.shape[0])).astype(np.float32)
    scores = np.zeros(args.beam)
    selection = {"numpy": _best_of(20, lambda: beam_step_numpy(logits, scores, 2 * args.beam))}
    if native_beam_step is not None:
        selection["native"] = _best_of(20, lambda: native_beam_step(logits, scores, 2 * args.beam))
    print(f"model {args.model}, {len(ids)} prompt tokens, {args.steps} steps, {args.threads} threads")
    print(f"| decoding | ms per step | vs greedy |\n|---|---|---|\n| greedy | {greedy_step * 1e3:.1f} | 1.00x |\n"
          f"| beam {args.beam} | {beam_step_time * 1e3:.1f} | {beam_step_time / greedy_step:.2f}x |")
    print("selection step alone (beam_step, [{}, {}] logits): ".format(args.beam, logits.shape[1])
          + ", ".join(f"{name} {t * 1e3:.1f} ms" for name, t in selection.items()))


if __name__ == "__main__":
    main()
