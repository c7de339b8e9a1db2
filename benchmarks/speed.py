"""Speed, memory and size against the official `qwen-asr` implementation and this machine's memory bandwidth.

    python -m benchmarks.speed [--tokens 32] [--tokens-per-second 3] [--threads 2] [--repeat 2] [--no-official] [--no-streaming]
                               [--out BENCHMARKS.md] [--config full-0.6b --aligner-config full-aligner-0.6b]

(`--config tiny --aligner-config tiny-aligner` runs the whole procedure in a few minutes: a smoke test, not figures.
`--config full-1.7b --out BENCHMARKS-1.7b.md` measures the optional 1.7B ASR size instead; not run on the 24 GB
machine of BENCHMARKS.md: its LLM is 2.9x the 0.6B's, whose int4 quantization already peaked near 15 GB.)

Full-size random-weight checkpoints in the official layout (the 0.6B ASR config and the 0.6B forced-aligner
config; speed does not depend on the weight values) are built and exported once, cached under
~/.cache/qwen-asr-edge/bench. In the same run and on the same audio (the bundled English sample repeated to
1, 10, 60 and 300 s), each engine runs in a fresh process (so peak RSS is its own) with the same thread count:
ours (fp32 / int8 / int4 / w8a8 exports) and the official PyTorch package (its own virtualenv; fp32 on 10 s and
60 s, bf16 on 10 s only: CPUs without bf16 instructions emulate it slowly).

Figures per engine (each transcription figure the best of `--repeat` runs in the same process, on both sides, after
a warm-up on 1 s of audio through the whole pipeline): encoder time per audio second, prefill, time to first token (audio in memory to the first
token's logits), decode ms per token (a fixed number of tokens: random weights stop anywhere, so EOS is
suppressed), end to end at `--tokens-per-second` generated tokens per audio second, cold start (a new process
transcribing 1 s, best of 2), peak RSS, size on disk; the aligner on 60 s (each of ours); the decode bound
(decode time over weight bytes read per token / measured bandwidth) and the kernel floor (one step's weight
products alone through the same kernels, benchmarks/kernel_floor.py); the compute floor of time to first token,
end to end and the aligner (their FLOPs over this machine's measured matrix-product speed, benchmarks/flops.py),
set against each target; and the streaming figures of `benchmarks.streaming`.
Writes the markdown to --out (BENCHMARKS.md at the top of the repository) and all figures to the same path
with a .json suffix, and prints the markdown.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import soundfile as sf

from .flops import audio_tokens, decoder_flops, encoder_flops, gemm_gflops
from .kernel_floor import kernel_floor_ms
from .quantization import REPO, _ort_version, build_models, part_sizes, peak_rss_mb, random_checkpoint
from .timing import best_of, fastest_seconds

OURS = ("int4", "fast", "w8a8", "int8", "fp32")
ALIGNER_ENGINES = ("int4", "w8a8", "int8", "fp32")  # an aligner quantized `fast` is its w8a8 (quantize/recipe.py)
FLOOR_ENGINES = ("int4", "fast", "w8a8")  # set against the compute floor: the smallest, the fastest overall and on compute
GEMM_NAMES = {"fp32": "float32 MatMul", "int4": "int4 MatMulNBits with int8 compute",
              "w8a8": "w8a8 (per-token int8 activations, MatMulIntegerToFloat)"}
SECONDS = (1, 10, 60, 300)
OFFICIAL_SECONDS = {"float32": (10, 60), "bfloat16": (10,)}
ALIGN_SECONDS = 60
TARGETS = {"ttft": 3.3, "e2e": 5.0, "align": 3.0}  # the speed-up targets over official fp32
SAMPLE = REPO / "samples" / "en_office_temperature.wav"
SAMPLE_TEXT = "set the office temperature to twenty four degrees"
OFFICIAL_SCRIPT = Path(__file__).with_name("official_speed.py")


# --- the machine -------------------------------------------------------------------------------------------

def read_bandwidth_gbs(threads: int, gib: float = 1.0, rounds: int = 5) -> float:
    """Memory read bandwidth: `threads` threads summing disjoint halves of a 1 GiB array (numpy releases the
    GIL in reductions), best of `rounds`; bytes read / seconds."""
    data = np.ones(int(gib * 2**30) // 8)
    parts = np.array_split(data, threads)
    with ThreadPoolExecutor(threads) as pool:
        best = fastest_seconds(lambda: list(pool.map(np.sum, parts)), rounds)
    return data.nbytes / best / 1e9


def machine_description() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
                 platform.processor() or platform.machine())
    flags = next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines() if line.startswith("flags")), [])
    mem_kb = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal:")), 0) if Path("/proc/meminfo").exists() else 0
    return {"cpu": model, "cores": os.cpu_count(), "memory_gib": round(mem_kb / 2**20, 1),
            "simd": [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "asimddp") if f in flags],
            "os": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
            "onnxruntime": _ort_version()}


def decode_bytes_per_token(model_dir: Path) -> int:
    """Weight bytes read per generated token: the decoder graph with its external data, and the embedding table,
    which the tied output head reads whole for every token (lookups of one row are negligible); not a
    `decoder_prefill` graph, which only runs the prompt."""
    return sum(p.stat().st_size for p in model_dir.iterdir() if p.name.startswith(("decoder.", "embed_tokens")))


# --- inputs ------------------------------------------------------------------------------------------------

def write_clips(out_dir: Path) -> dict[int, Path]:
    """The bundled English sample repeated to each length of SECONDS (16 kHz mono wav)."""
    from qwen_asr_edge.audio import load_audio
    speech = load_audio(SAMPLE)
    out_dir.mkdir(parents=True, exist_ok=True)
    clips = {}
    for seconds in SECONDS:
        clips[seconds] = out_dir / f"speech_{seconds}s.wav"
        sf.write(str(clips[seconds]), np.resize(speech, seconds * 16000), 16000, subtype="FLOAT")
    return clips


def align_text(seconds: float) -> str:
    """The sample's words repeated as often as the sample is in `seconds` of audio."""
    repeats = int(np.ceil(seconds * 16000 / sf.info(str(SAMPLE)).frames))
    return " ".join([SAMPLE_TEXT] * repeats)


def official_checkpoint(config: str) -> Path:
    """The random checkpoint as the official package loads it: its files plus the processor's files."""
    from tests.fixtures import cached_dir, run_reference

    ckpt = random_checkpoint(config)

    def build(tmp: Path) -> None:
        for item in ckpt.iterdir():
            (tmp / item.name).symlink_to(item)
        run_reference("official_model.py", "processor-files", tmp)

    return cached_dir(f"bench/official-{config}", ckpt.parent.name.rsplit("-", 1)[-1], build)


# --- our side, run in fresh processes ----------------------------------------------------------------------

def measure_asr(model_dir: Path, clips: list[Path], tokens: int, tokens_per_second: float, threads: int,
                one_window: bool, repeat: int) -> dict:
    """Per clip, best of `repeat` runs: features, encoder, prefill, time to first token, decode ms/token, end to end."""
    from qwen_asr_edge import Transcriber
    from qwen_asr_edge.audio import load_audio
    from qwen_asr_edge.decoding import greedy_continue
    from qwen_asr_edge.features import SAMPLE_RATE, log_mel_spectrogram

    class FixedRate(Transcriber):
        """The normal pipeline, generating exactly `tokens_per_second` tokens per second of each window."""
        generated = 0

        def generate(self, audio, context="", language=None, keep_logits=False):
            self.max_new_tokens = max(1, round(tokens_per_second * len(audio) / SAMPLE_RATE))
            generation = super().generate(audio, context, language, keep_logits)
            self.generated += len(generation.tokens)
            return generation

    started = time.perf_counter()
    asr = FixedRate(model_dir, threads=threads, max_window_seconds=1200.0 if one_window else 30.0)
    load = time.perf_counter() - started
    asr.eos_ids = ()  # random weights stop anywhere: decode a fixed number of tokens
    forced = np.random.default_rng(0).integers(0, 150000, tokens).tolist()
    asr.generate(load_audio(clips[0])[:SAMPLE_RATE])  # warm-up on 1 s, the whole pipeline, as the official side does

    def measure(audio: np.ndarray) -> dict[str, float]:
        started = time.perf_counter()
        mel = log_mel_spectrogram(audio)
        features = time.perf_counter() - started
        started = time.perf_counter()
        embeds = asr.encoder(mel)
        encoder = time.perf_counter() - started
        started = time.perf_counter()
        ids, prompt = asr.prompt_embeds(embeds)
        empty = asr.decoder.empty_cache()
        logits, prefix = asr.decoder.run(prompt[None], np.arange(len(ids))[None], empty, empty)
        prefill = time.perf_counter() - started
        started = time.perf_counter()  # `tokens` decoder steps on the prompt's cache, one per forced token
        greedy_continue(asr.decoder, logits, prefix, empty, len(ids), (), tokens, forced=forced)
        decode = (time.perf_counter() - started) / tokens
        del logits, prefix  # the prompt's cache (182 MB on 60 s) must not stay alive through the next measurement
        asr.generated = 0
        started = time.perf_counter()
        asr.transcribe(audio, sample_rate=SAMPLE_RATE)
        e2e = time.perf_counter() - started
        return {"features_s": features, "encoder_s": encoder, "prefill_s": prefill,
                "ttft_s": features + encoder + prefill, "decode_ms_per_token": decode * 1e3,
                "e2e_s": e2e, "e2e_tokens": asr.generated, "prompt_tokens": len(ids)}

    results = {}
    for path in clips:
        audio = load_audio(path)
        results[f"{len(audio) / SAMPLE_RATE:g}"] = best_of([measure(audio) for _ in range(repeat)])
    return {"load_s": load, "clips": results, "peak_rss_mb": peak_rss_mb()}


def measure_align(model_dir: Path, clip: Path, text: str, threads: int) -> dict:
    from qwen_asr_edge.aligner import Aligner
    from qwen_asr_edge.words import split_words
    started = time.perf_counter()
    aligner = Aligner(model_dir, threads=threads)
    load = time.perf_counter() - started
    times, words = [], 0
    for _ in range(2):
        started = time.perf_counter()
        words = len(aligner.align(clip, text, "English"))
        times.append(time.perf_counter() - started)
    prompt = aligner.prompt_ids(audio_tokens(sf.info(str(clip)).duration), split_words(text, "English"))
    return {"load_s": load, "align_s": min(times), "words": words, "prompt_tokens": len(prompt), "peak_rss_mb": peak_rss_mb()}


def _json_of(command: list[str]) -> dict:
    """Run a measuring subprocess; its last stdout line is its JSON result."""
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} ... failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def ours(kind: str, model_dir: Path, clips: list[Path], args: argparse.Namespace, **extra: object) -> dict:
    command = [sys.executable, "-m", "benchmarks.speed", "--child", kind, "--model", str(model_dir),
               "--tokens", str(args.tokens), "--tokens-per-second", str(args.tokens_per_second),
               "--threads", str(args.threads), "--repeat", str(args.repeat), *map(str, clips)]
    for key, value in extra.items():
        command += [f"--{key.replace('_', '-')}"] + ([] if value is True else [str(value)])
    return _json_of(command)


def official(python: Path, command: str, ckpt: Path, clips: list[Path], args: argparse.Namespace, *extra: str) -> dict:
    return _json_of([str(python), str(OFFICIAL_SCRIPT), command, str(ckpt), "--audio", *map(str, clips),
                     "--tokens", str(args.tokens), "--tokens-per-second", str(args.tokens_per_second),
                     "--threads", str(args.threads), "--repeat", str(args.repeat), *extra])


def cold_start(command: list[str], rounds: int = 2) -> float:
    """Wall time of a new process running `command` to its end, best of `rounds` (files in the page cache)."""
    return fastest_seconds(lambda: subprocess.run(command, cwd=REPO, check=True, capture_output=True), rounds)


# --- the compute floor --------------------------------------------------------------------------------------

def compute_floor(r: dict, args: argparse.Namespace) -> dict:
    """Seconds no engine can beat on this machine's fastest matrix product (benchmarks/flops.py), per figure:
    ttft (encoder + one prefill of the whole clip), our end to end (windows of at most 30 s, each encoded and
    prefilled, plus the generated tokens at the lowest decode bandwidth bound of our engines) and the aligner's
    pass. The prompt and token counts are the same for every engine of ours; `engines` are those set against it."""
    from qwen_asr_edge.export.config import load_config

    gflops = r["gemm_gflops"]["best"] * 1e9
    asr, aligner = load_config(random_checkpoint(args.config)), load_config(random_checkpoint(args.aligner_config))
    text = asr.text
    engines = [name for name in FLOOR_ENGINES if name in r["ours"]] or list(r["ours"])[:1]
    clips = r["ours"][engines[0]]["clips"]
    bound_ms = min(v["bound_ms_per_token"] for v in r["ours"].values())
    floor: dict = {"engines": engines, "ttft_s": {}, "e2e_s": {}}
    for seconds, c in clips.items():
        sec = float(seconds)
        work = encoder_flops(asr.audio, sec) + decoder_flops(text, c["prompt_tokens"], 1, text.vocab_size)
        floor["ttft_s"][seconds] = work / gflops
        windows = int(np.ceil(sec / 30.0))
        template = c["prompt_tokens"] - audio_tokens(sec)
        window_tokens = template + audio_tokens(sec / windows)
        work = windows * (encoder_flops(asr.audio, sec / windows) + decoder_flops(text, window_tokens, 1, text.vocab_size))
        floor["e2e_s"][seconds] = work / gflops + c["e2e_tokens"] * bound_ms / 1e3
    a = r.get("aligner", {}).get("engines", {})
    v = next((v for name, v in a.items() if name.startswith("ours")), None)
    if v:
        work = (encoder_flops(aligner.audio, ALIGN_SECONDS)
                + decoder_flops(aligner.text, v["prompt_tokens"], 2 * v["words"], aligner.classify_num))
        floor["align_s"] = work / gflops
    return floor


# --- the report --------------------------------------------------------------------------------------------

def ratio(reference: float | None, value: float | None) -> str:
    return f"{reference / value:.1f}x" if reference and value else "-"


def report(r: dict, args: argparse.Namespace) -> str:
    m = r["machine"]
    off = r.get("official", {})
    off32 = off.get("float32", {})
    lines = ["# Speed against the official implementation", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, SIMD {' '.join(m['simd']) or '-'}, "
             f"{m['os']}; Python {m['python']}, onnxruntime {m['onnxruntime']}"
             + (f", official qwen-asr with torch {off['torch']}" if off.get("torch") else "") + f". Measured memory "
             f"read bandwidth: {r['bandwidth_gbs']:.1f} GB/s. {args.threads} threads for every engine; random-weight "
             f"checkpoints (`{args.config}`, `{args.aligner_config}`); each engine in a fresh process; each "
             f"transcription figure the best of {args.repeat} runs, on both sides. "
             f"Produced by `python -m benchmarks.speed` on {r['date']}.", ""]
    lines += [f"## Transcription (`{args.config}`)", "",
              "`ttft`: audio in memory to the first token's logits (features, encoder, prefill). `decode`: ms per "
              f"generated token over {args.tokens} tokens. `e2e`: the whole pipeline at {args.tokens_per_second:g} "
              "tokens per audio second (ours cuts windows of at most 30 s by default; `one window` feeds the whole "
              "clip at once, as the official wrapper does up to 20 minutes). `vs official`: official fp32 time / "
              "ours (higher is better).", "",
              "| engine | audio s | encoder ms per audio s | prefill s | ttft s | ttft vs official | decode ms/token "
              "| decode vs official | decode / bound | e2e s (RTF) | e2e vs official | peak RSS MB |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    rows = [(name, v, False) for name, v in r["ours"].items()] + [
        (f"official {dtype}", v, True) for dtype, v in off.items() if isinstance(v, dict)]
    for name, v, is_official in rows:
        for seconds, c in v["clips"].items():
            if seconds == "1":
                continue
            ref = off32.get("clips", {}).get(seconds, {})
            bound = "-" if is_official else f"{c['decode_ms_per_token'] / v['bound_ms_per_token']:.2f}"
            single = v.get("one_window", {}).get(seconds)
            e2e = f"{c['e2e_s']:.2f} ({c['e2e_s'] / float(seconds):.3f})"
            e2e_vs = ratio(ref.get("e2e_s"), c["e2e_s"])
            if single:
                e2e += f"; one window {single['e2e_s']:.2f}"
                e2e_vs += f"; {ratio(ref.get('e2e_s'), single['e2e_s'])}"
            lines.append(f"| {name} | {seconds} | {c['encoder_s'] / float(seconds) * 1e3:.1f} | {c['prefill_s']:.2f} "
                         f"| {c['ttft_s']:.2f} | {ratio(ref.get('ttft_s'), c['ttft_s'])} | {c['decode_ms_per_token']:.1f} "
                         f"| {ratio(ref.get('decode_ms_per_token'), c['decode_ms_per_token'])} | {bound} | {e2e} "
                         f"| {e2e_vs} | {v['peak_rss_mb']:.0f} |")
    lines += ["", "`decode bound`: the weight bytes a step reads / the measured bandwidth. `kernels`: one step's weight "
              "products alone through the same ONNX Runtime kernels and weights (`python -m benchmarks.kernel_floor "
              "MODEL_DIR`; none for w8a8, whose products take activations quantized by other nodes): `kernels / "
              "bound` is how near the kernels come to the memory's speed, `decode / kernels` (10 s) what the rest "
              "of a step (attention, norms, host) adds.", "",
              "| engine | size on disk MB | weight MB read per token | decode bound ms/token | kernels ms/token "
              "| kernels / bound | decode / kernels | load s | cold start s | cold start vs official |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for name, v, is_official in rows:
        cold = v.get("cold_start_s")
        lines.append(f"| {name} | {v['size_mb']:.0f} | {'- | - | - | - | -' if is_official else decode_costs(v)} "
                     f"| {v['load_s']:.2f} | {f'{cold:.2f}' if cold else '-'} | {ratio(off32.get('cold_start_s'), cold)} |")
    if r.get("aligner"):
        a = r["aligner"]
        lines += ["", f"## Forced aligner (`{args.aligner_config}`), {ALIGN_SECONDS} s of audio, {a['words']} words", "",
                  "| engine | align s | vs official | load s | peak RSS MB |", "|---|---|---|---|---|"]
        for name, v in a["engines"].items():
            lines.append(f"| {name} | {v['align_s']:.2f} | {ratio(a['engines'].get('official float32', {}).get('align_s'), v['align_s'])} "
                         f"| {v['load_s']:.2f} | {v['peak_rss_mb']:.0f} |")
    if r.get("floor"):
        lines += floor_section(r)
    if r.get("official_error"):
        lines += ["", f"The official run failed: `{r['official_error']}`."]
    if r.get("streaming"):
        lines += ["", "## Streaming (`python -m benchmarks.streaming`)", "", r["streaming"].strip()]
    return "\n".join(lines).rstrip() + "\n"


def decode_costs(v: dict) -> str:
    """Weight MB per token, bound ms, kernels ms, kernels / bound, decode on 10 s / kernels: table cells."""
    kernels = v.get("kernel_floor_ms")
    cells = [f"{v['bytes_per_token'] / 1e6:.0f}", f"{v['bound_ms_per_token']:.1f}"]
    if kernels is None:
        return " | ".join(cells + ["-"] * 3)
    decode = v["clips"].get("10", {}).get("decode_ms_per_token")
    return " | ".join(cells + [f"{kernels:.1f}", f"{kernels / v['bound_ms_per_token']:.2f}",
                               f"{decode / kernels:.2f}" if decode else "-"])


def floor_section(r: dict) -> list[str]:
    """The compute floor against our engines and against each target (the official time / the issue's ratio)."""
    g, floor = r["gemm_gflops"], r["floor"]
    engines = floor["engines"]
    off = r.get("official", {}).get("float32", {}).get("clips", {})
    aligners = r.get("aligner", {}).get("engines", {})
    rows = [(f"ttft {seconds} s", floor["ttft_s"][seconds], [r["ours"][e]["clips"][seconds]["ttft_s"] for e in engines],
             off.get(seconds, {}).get("ttft_s"), TARGETS["ttft"]) for seconds in ("10", "60") if seconds in floor["ttft_s"]]
    if "60" in floor["e2e_s"]:
        rows.append(("end to end 60 s", floor["e2e_s"]["60"], [r["ours"][e]["clips"]["60"]["e2e_s"] for e in engines],
                     off.get("60", {}).get("e2e_s"), TARGETS["e2e"]))
    if "align_s" in floor:
        rows.append((f"aligner {ALIGN_SECONDS} s", floor["align_s"],
                     [aligners.get(f"ours {e}", {}).get("align_s") for e in engines],
                     aligners.get("official float32", {}).get("align_s"), TARGETS["align"]))
    speeds = ", ".join(f"{GEMM_NAMES[k]} {v:.0f} GFLOP/s" for k, v in g.items() if k in GEMM_NAMES)
    lines = ["", "## The compute floor (`benchmarks/flops.py`)", "",
             f"Matrix products through ONNX Runtime on this machine, {r['args']['threads']} threads, [512 x 1024] x "
             f"[1024 x 3072]: {speeds}. A stage's floor is its multiply-adds x 2 (counted from the config as the "
             "official algorithm runs it; tests/test_flops.py checks the counts against PyTorch's FLOP counter) "
             "over the fastest of these; end to end adds our generated tokens at the lowest decode bound of our "
             "engines. `target`: the official fp32 time / the issue's ratio; below 1 in the last column, no engine "
             "doing this arithmetic reaches it on this machine.", "",
             "| figure | floor s | " + " | ".join(f"ours {e} s" for e in engines) + " | best of ours / floor "
             "| official fp32 s | target s | target / floor |",
             "|---|---|" + "---|" * len(engines) + "---|---|---|---|"]
    for label, low, ours_s, official_s, target_ratio in rows:
        target = official_s / target_ratio if official_s else None
        measured = [t for t in ours_s if t]
        lines.append(f"| {label} | {low:.2f} | " + " | ".join(f"{t:.2f}" if t else "-" for t in ours_s)
                     + f" | {f'{min(measured) / low:.2f}' if measured else '-'} | "
                     f"{f'{official_s:.2f}' if official_s else '-'} | "
                     f"{f'{target:.2f} ({target_ratio:g}x)' if target else '-'} | {f'{target / low:.2f}' if target else '-'} |")
    return lines


def _portable(value: object) -> str:
    """An argument as recorded in the report: paths inside the repository relative to it."""
    if isinstance(value, Path) and value.resolve().is_relative_to(REPO):
        return str(value.resolve().relative_to(REPO))
    return str(value)


def run(args: argparse.Namespace, audio_dir: Path) -> dict:
    from tests.fixtures import reference_python
    clips = write_clips(audio_dir)
    result: dict = {"date": time.strftime("%Y-%m-%d"), "machine": machine_description(),
                    "bandwidth_gbs": read_bandwidth_gbs(args.threads), "args": {k: _portable(v) for k, v in vars(args).items()}}
    result["gemm_gflops"] = gemm_gflops(args.threads)
    print(f"memory read bandwidth {result['bandwidth_gbs']:.1f} GB/s, matrix products {result['gemm_gflops']['best']:.0f} "
          "GFLOP/s; building/loading models ...", file=sys.stderr)
    models = build_models(args.config, OURS)
    result["ours"] = {}
    for name, model_dir in models.items():
        print(f"ours {name} ...", file=sys.stderr)
        v = ours("asr", model_dir, [clips[s] for s in (10, 60)], args)
        v["clips"].update(ours("asr", model_dir, [clips[300]], args)["clips"])
        v["one_window"] = ours("asr", model_dir, [clips[60]], args, one_window=True)["clips"]
        v["size_mb"] = part_sizes(model_dir)["total"] / 1e6
        v["bytes_per_token"] = decode_bytes_per_token(model_dir)
        v["bound_ms_per_token"] = v["bytes_per_token"] / (result["bandwidth_gbs"] * 1e9) * 1e3
        v["kernel_floor_ms"] = kernel_floor_ms(model_dir, args.threads)
        v["cold_start_s"] = cold_start([sys.executable, "-m", "qwen_asr_edge", "transcribe", str(clips[1]), "-m",
                                        str(model_dir), "--max-new-tokens", "8", "-t", str(args.threads), "--no-progress"])
        result["ours"][name] = v
    aligners = build_models(args.aligner_config, ALIGNER_ENGINES)
    text = align_text(ALIGN_SECONDS)
    result["aligner"] = {"engines": {}}
    for name, model_dir in aligners.items():
        print(f"aligner {name} ...", file=sys.stderr)
        v = ours("align", model_dir, [clips[ALIGN_SECONDS]], args, text=text)
        result["aligner"]["engines"][f"ours {name}"], result["aligner"]["words"] = v, v["words"]
    if args.official:  # a failure here keeps our figures: the report says what failed
        try:
            python = reference_python()
            torch_version = subprocess.run([str(python), "-c", "import torch; print(torch.__version__)"],
                                           capture_output=True, text=True, check=True).stdout.strip()
            result["official"] = {"torch": torch_version}
            ckpt = official_checkpoint(args.config)
            size = sum(p.stat().st_size for p in ckpt.iterdir()) / 1e6
            for dtype, lengths in OFFICIAL_SECONDS.items():
                print(f"official {dtype} ...", file=sys.stderr)
                v = official(python, "asr", ckpt, [clips[s] for s in lengths], args, "--dtype", dtype)
                v["size_mb"] = size
                result["official"][dtype] = v
            result["official"]["float32"]["cold_start_s"] = cold_start(
                [str(python), str(OFFICIAL_SCRIPT), "cold", str(ckpt), "--audio", str(clips[1]), "--threads", str(args.threads)])
            print("official aligner ...", file=sys.stderr)
            result["aligner"]["engines"]["official float32"] = official(
                python, "align", official_checkpoint(args.aligner_config), [clips[ALIGN_SECONDS]], args, "--text", text)
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            result["official_error"] = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
            print(f"official run failed: {result['official_error']}", file=sys.stderr)

    result["floor"] = compute_floor(result, args)
    if args.streaming:
        print("streaming ...", file=sys.stderr)
        result["streaming"] = subprocess.run([sys.executable, "-m", "benchmarks.streaming", "--threads", str(args.threads),
                                              "--config", args.config],
                                             cwd=REPO, capture_output=True, text=True, check=True).stdout
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=32, help="decode steps timed per clip [32]")
    parser.add_argument("--tokens-per-second", type=float, default=3.0, help="tokens per audio second end to end [3]")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs of each transcription measurement, on both sides; the best is kept [2]")
    parser.add_argument("--config", default="full-0.6b",
                        help="random checkpoint config of the ASR model (full-1.7b: the optional 1.7B size) [full-0.6b]")
    parser.add_argument("--aligner-config", default="full-aligner-0.6b",
                        help="... of the aligner [full-aligner-0.6b]")
    parser.add_argument("--no-official", dest="official", action="store_false", help="skip the official package")
    parser.add_argument("--no-streaming", dest="streaming", action="store_false", help="skip benchmarks.streaming")
    parser.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md", help="markdown report [BENCHMARKS.md]")
    parser.add_argument("--child", choices=("asr", "align"), help=argparse.SUPPRESS)
    parser.add_argument("--model", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--one-window", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--text", help=argparse.SUPPRESS)
    parser.add_argument("clips", type=Path, nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "asr":
        print(json.dumps(measure_asr(args.model, args.clips, args.tokens, args.tokens_per_second, args.threads,
                                     args.one_window, args.repeat)))
        return
    if args.child == "align":
        print(json.dumps(measure_align(args.model, args.clips[0], args.text, args.threads)))
        return
    with tempfile.TemporaryDirectory(prefix="qwen-asr-edge-bench-") as audio_dir:
        result = run(args, Path(audio_dir))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=1))
    text = report(result, args)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
