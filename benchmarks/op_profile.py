"""Where the time goes: ONNX Runtime's per-node profile of each graph, summed by operator type.

    python -m benchmarks.op_profile MODEL_DIR [--seconds 10] [--tokens 32] [--threads 2] [--top 8]

For an ASR model: the encoder graphs and one prefill on `--seconds` of the bundled sample (repeated), then
`--tokens` decode steps, profiled separately; for an aligner: the encoder graphs and its one forward pass.
Prints per graph and phase the wall time of the runs and the operator types taking the most node time.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import onnxruntime as ort

from .speed import SAMPLE, align_text


def profiled_sessions(prefix: Path) -> None:
    """Make every InferenceSession created from now on write an ORT profile under `prefix`."""
    base = ort.SessionOptions

    class ProfilingOptions(base):
        def __init__(self) -> None:
            super().__init__()
            self.enable_profiling = True
            self.profile_file_prefix = str(prefix)

    ort.SessionOptions = ProfilingOptions


def op_times(profile: Path) -> dict[str, float]:
    """Node time in ms per operator type of one profile file."""
    totals: dict[str, float] = defaultdict(float)
    for event in json.loads(profile.read_text()):
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            totals[event["args"]["op_name"]] += event["dur"] / 1e3
    return dict(totals)


def report(label: str, wall_s: float, session: ort.InferenceSession, top: int) -> None:
    times = op_times(Path(session.end_profiling()))
    total = sum(times.values()) or 1.0
    print(f"{label}: {wall_s * 1e3:.0f} ms wall, {total:.0f} ms in nodes")
    for op, ms in sorted(times.items(), key=lambda kv: -kv[1])[:top]:
        print(f"    {op:<34} {ms:9.1f} ms  {ms / total:6.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--top", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        profiled_sessions(Path(tmp) / "ort")
        from qwen_asr_edge.audio import load_audio
        from qwen_asr_edge.features import SAMPLE_RATE, log_mel_spectrogram
        from qwen_asr_edge.model_dir import open_model_dir
        audio = np.resize(load_audio(SAMPLE), int(args.seconds * SAMPLE_RATE))
        kind = open_model_dir(args.model_dir).manifest["kind"]
        if kind == "aligner":
            from qwen_asr_edge.aligner import Aligner
            from qwen_asr_edge.words import split_words
            model = Aligner(args.model_dir, threads=args.threads)
            words = split_words(align_text(args.seconds), "English")
            started = time.perf_counter()
            model.align_window(audio, words)
            wall = time.perf_counter() - started
            report(f"{len(words)} words, whole alignment (decoder below)", wall, model.session, args.top)
        else:
            from qwen_asr_edge import Transcriber
            from qwen_asr_edge.decoding import greedy_continue
            model = Transcriber(args.model_dir, threads=args.threads)
            ids, prompt = model.prompt_embeds(model.encoder(log_mel_spectrogram(audio)))
            empty = model.decoder.empty_cache()
            started = time.perf_counter()
            logits, prefix = model.decoder.run(prompt[None], np.arange(len(ids))[None], empty, empty)
            wall = time.perf_counter() - started
            report(f"prefill of {len(ids)} tokens", wall, model.decoder.session_for(len(ids)), args.top)
            profiled_sessions(Path(tmp) / "decode")
            from qwen_asr_edge.sessions import make_session
            from qwen_asr_edge.model_dir import DECODER
            model.decoder.session = make_session(model.model_dir.graph(DECODER), args.threads)
            forced = np.random.default_rng(0).integers(0, 150000, args.tokens).tolist()
            started = time.perf_counter()
            greedy_continue(model.decoder, logits, prefix, empty, len(ids), (), args.tokens, forced=forced)
            wall = time.perf_counter() - started
            report(f"{args.tokens} decode steps", wall, model.decoder.session, args.top)
        for name, session in (("encoder_conv", model.encoder.conv), ("encoder_transformer", model.encoder.transformer)):
            report(f"{name} ({args.seconds:g} s of audio)", float("nan"), session, args.top)


if __name__ == "__main__":
    main()
