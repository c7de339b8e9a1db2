"""Size and speed of fp32 / int8 / int4 exports of a full-size configuration (random weights).

    python -m benchmarks.quantization [--config full-0.6b] [--tokens 32] [--seconds 10] [--threads 2] [--out FILE]

Builds (and caches under ~/.cache/qwen-asr-edge/bench, keyed by the code that made them) a random-weight
checkpoint in the official layout, its fp32 export and the int8 / int4 quantizations of that export, then
measures each in a fresh process (so peak RSS is its own), `--repeat` rounds interleaved, keeping the
fastest time of each figure (this VM's timings are noisy): session load time, encoder and prefill time on
`--seconds` of speech, decode ms per token over a fixed number of forced tokens (random weights stop at
random places), peak RSS. Prints a markdown table (and writes it to --out) with ratios against fp32 from
the same run. Speed does not depend on the weight values, so random weights give honest timings.
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
VARIANTS = ("fp32", "int8", "int4")


def _code_key(*patterns: str) -> str:
    from tests.fixtures import digest
    return digest(*sorted(p for pattern in patterns for p in REPO.glob(pattern)))


# What each artefact depends on: the fp32 export on the exporter and the head/format code, a quantized
# export also on the quantization passes and recipes.
FP32_CODE = ("export/*.py", "quantize/head.py", "quantize/pipeline.py", "runtime/model_dir.py", "runtime/embedding.py")
QUANT_CODE = (*FP32_CODE, "quantize/*.py")


def random_checkpoint(config: str) -> Path:
    """The cached random-weight checkpoint (official layout) of `config`, seed 0."""
    from tests.fixtures import cached_dir, digest

    def checkpoint(tmp: Path) -> None:
        from qwen_asr_edge.export.random_checkpoint import write_random_checkpoint
        write_random_checkpoint(tmp / "ckpt", config, seed=0)

    return cached_dir(f"bench/ckpt-{config}", digest(REPO / "export" / "random_checkpoint.py", config), checkpoint) / "ckpt"


def build_models(config: str, variants: tuple[str, ...] = VARIANTS) -> dict[str, Path]:
    """The cached exports of a random `config` checkpoint: fp32, and the other variants quantized from it."""
    from tests.fixtures import cached_dir, digest

    ckpt = random_checkpoint(config)
    ckpt_key = ckpt.parent.name

    def fp32(tmp: Path) -> None:
        from qwen_asr_edge.export import export_checkpoint
        export_checkpoint(ckpt, tmp / "model", quant="fp32")

    models = {"fp32": cached_dir(f"bench/{config}-fp32", digest(ckpt_key, _code_key(*FP32_CODE)), fp32) / "model"}
    for quant in variants:
        if quant == "fp32":
            continue
        def quantized(tmp: Path, quant: str = quant) -> None:
            # a child process: the parent's heap from the earlier builds and runs would add to a quantization's
            # 9-15 GB (benchmarks.speed's aligner int8 build was OOM-killed at 24 GB in-process)
            subprocess.run([sys.executable, "-m", "qwen_asr_edge", "quantize", str(models["fp32"]), str(tmp / "model"),
                            "--quant", quant], check=True)
        key = digest(ckpt_key, _code_key(*QUANT_CODE), quant)
        models[quant] = cached_dir(f"bench/{config}-{quant}", key, quantized) / "model"
    return {name: models[name] for name in variants}


def part_sizes(model_dir: Path) -> dict[str, int]:
    """Bytes on disk of the encoder graphs, the decoder graph (with external data), the table, everything."""
    sizes = {p.name: p.stat().st_size for p in model_dir.iterdir()}
    def total(prefix: str) -> int:
        return sum(size for name, size in sizes.items() if name.startswith(prefix))
    return {"encoder": total("encoder_"), "decoder": total("decoder"), "embeddings": total("embed_tokens"),
            "total": sum(sizes.values())}


def measure(model_dir: Path, tokens: int, seconds: float, threads: int) -> dict:
    """Timings of one model in this process (run it in a fresh process for an honest peak RSS)."""
    from qwen_asr_edge import Transcriber
    from qwen_asr_edge.audio import load_audio
    from qwen_asr_edge.decoding import greedy_decode
    from qwen_asr_edge.features import SAMPLE_RATE, log_mel_spectrogram

    started = time.perf_counter()
    asr = Transcriber(model_dir, threads=threads)
    load = time.perf_counter() - started
    speech = load_audio(REPO / "samples" / "en_office_temperature.wav")
    audio = np.resize(speech, int(seconds * SAMPLE_RATE))
    started = time.perf_counter()
    embeds = asr.encoder(log_mel_spectrogram(audio))
    encoder = time.perf_counter() - started
    ids, prompt = asr.prompt_embeds(embeds)
    forced = np.random.default_rng(0).integers(0, 150000, tokens).tolist()
    empty = asr.decoder.empty_cache()
    greedy_decode(asr.decoder, prompt, asr.eos_ids, 2)  # warm-up
    started = time.perf_counter()
    asr.decoder.run(prompt[None], np.arange(len(ids))[None], empty, empty)
    prefill = time.perf_counter() - started
    started = time.perf_counter()
    greedy_decode(asr.decoder, prompt, asr.eos_ids, tokens, forced=forced)
    decode = (time.perf_counter() - started - prefill) / tokens
    return {"load_s": load, "encoder_s": encoder, "prompt_tokens": len(ids), "prefill_s": prefill,
            "decode_ms_per_token": decode * 1e3, "peak_rss_mb": peak_rss_mb()}


def _status_mb(field: str) -> float | None:
    """A memory field of /proc/self/status in MiB, or None where there is none."""
    status = Path("/proc/self/status")
    for line in status.read_text().splitlines() if status.is_file() else ():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return None


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM; ru_maxrss would include the parent's peak from before exec)."""
    peak = _status_mb("VmHWM")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 if peak is None else peak


def resident_mb() -> float | None:
    """This process's resident set now (VmRSS), or None off Linux."""
    return _status_mb("VmRSS")


def _measure_in_subprocess(model_dir: Path, args: argparse.Namespace) -> dict:
    out = subprocess.run([sys.executable, "-m", "benchmarks.quantization", "--measure", str(model_dir),
                          "--tokens", str(args.tokens), "--seconds", str(args.seconds), "--threads", str(args.threads)],
                         cwd=REPO, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def table(rows: dict[str, dict], args: argparse.Namespace) -> str:
    base = rows["fp32"]
    lines = [f"Config `{args.config}` (random weights), {args.seconds:g} s of audio, {args.tokens} forced decode "
             f"steps, {args.threads} threads, best of {args.repeat} rounds; {platform.processor() or platform.machine()}, "
             f"{platform.system()} {platform.release()}, onnxruntime {_ort_version()}.", "",
             "| variant | encoder MB | decoder MB | embeddings MB | total MB | load s | encoder s | prefill s "
             "| decode ms/token | decode vs fp32 | peak RSS MB |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in rows.items():
        s = r["sizes"]
        lines.append(f"| {name} | {s['encoder'] / 1e6:.0f} | {s['decoder'] / 1e6:.0f} | {s['embeddings'] / 1e6:.0f} "
                     f"| {s['total'] / 1e6:.0f} | {r['load_s']:.2f} | {r['encoder_s']:.2f} | {r['prefill_s']:.2f} "
                     f"| {r['decode_ms_per_token']:.1f} | {r['decode_ms_per_token'] / base['decode_ms_per_token']:.2f}x "
                     f"| {r['peak_rss_mb']:.0f} |")
    return "\n".join(lines) + "\n"


def _ort_version() -> str:
    import onnxruntime
    return onnxruntime.__version__


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="full-0.6b")
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; times are the minimum over rounds")
    parser.add_argument("--out", type=Path, help="also write the table here")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # internal: one model, JSON on stdout
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.tokens, args.seconds, args.threads)))
        return
    models = build_models(args.config)
    runs: dict[str, list[dict]] = {name: [] for name in models}
    for round_ in range(args.repeat):  # variants interleaved, so a noisy moment hits all of them alike
        for name, model_dir in models.items():
            print(f"measuring {name} ({round_ + 1}/{args.repeat}) ...", file=sys.stderr)
            runs[name].append(_measure_in_subprocess(model_dir, args))
    rows = {name: {**{k: (max if k == "peak_rss_mb" else min)(r[k] for r in results) for k in results[0]},
                   "sizes": part_sizes(models[name])} for name, results in runs.items()}
    text = table(rows, args)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
