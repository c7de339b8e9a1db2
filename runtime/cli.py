"""Command line: `qwen-asr-edge export | quantize | quant-report | transcribe | align | info`.

Errors are one line on stderr (`error: <file>: <reason>`), the other inputs of a batch still run, and
the exit status is 2 if any input failed or the model is unusable, 130 on Ctrl-C, 0 otherwise.
"""
from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Callable, Sequence

from . import __version__
from .batch import collect_inputs, output_path, progress_bar, write_atomically
from .errors import QwenAsrEdgeError
from .aligner import Aligner
from .formats import FORMATS, SUBTITLES, write_result
from .subtitles import build_cues, to_srt, to_vtt
from .model_dir import open_model_dir
from .prompt import SUPPORTED_LANGUAGES, language_codes, normalize_language
from .quantize.recipe import PRESETS
from .sessions import PROVIDERS
from .streaming import StreamOptions
from .transcriber import DEFAULT_MAX_WINDOW_SECONDS, Transcriber, bundled_model_dir

EXIT_FAILED = 2
EXIT_INTERRUPTED = 130


def _error(where: str, reason: object) -> None:
    """`error: WHERE: REASON` on stderr (WHERE once, also when the reason already starts with it)."""
    text = str(reason)
    print(f"error: {text}" if text.startswith(f"{where}: ") else f"error: {where}: {text}", file=sys.stderr)


def _run_export_tool(name: str, module: str, where: str, call: Callable[[ModuleType], object]) -> int:
    """Import `module` (which needs the [export] extra) and run `call` with it; errors as one line."""
    try:
        tool = importlib.import_module(module, __package__)
    except ImportError as exc:
        _error(name, f"{name} needs the [export] extra: pip install 'qwen-asr-edge[export]' ({exc.name} missing)")
        return EXIT_FAILED
    try:
        call(tool)
    except QwenAsrEdgeError as exc:
        _error(where, exc)
        return EXIT_FAILED
    return 0


def _with_ort_copies(wanted: bool, out_dir: str) -> None:
    """`--ort`: add ORT-format copies to the directory just written."""
    if wanted:
        from .quantize.ort_format import add_ort_copies
        add_ort_copies(out_dir)


def _cmd_export(args: argparse.Namespace) -> int:
    def run(tool: ModuleType) -> None:
        _with_ort_copies(args.ort, tool.export_checkpoint(
            args.checkpoint, args.out_dir, quant=args.quant, recipe=args.recipe, static=args.static,
            kv_capacity=args.kv_capacity, prefill_tokens=args.prefill_tokens))
    return _run_export_tool("export", ".export", args.checkpoint, run)


def _cmd_quantize(args: argparse.Namespace) -> int:
    def run(tool: ModuleType) -> None:
        calibration = [str(item.path) for item in collect_inputs(args.calibration or [])]
        _with_ort_copies(args.ort, tool.quantize_model_dir(args.fp32_dir, args.out_dir, args.quant, args.recipe,
                                                           calibration))
    return _run_export_tool("quantize", ".quantize.pipeline", args.fp32_dir, run)


def _cmd_quant_report(args: argparse.Namespace) -> int:
    from .quantize.report import compare_file, mean_row, print_report
    try:
        fp32, quant = (Transcriber(d, threads=args.threads) for d in (args.fp32_dir, args.quant_dir))
    except QwenAsrEdgeError as exc:
        _error("model", exc)
        return EXIT_FAILED
    rows, failed = [], False
    for item in collect_inputs(args.audio):
        try:
            rows.append(compare_file(fp32, quant, str(item.path)))
        except QwenAsrEdgeError as exc:
            _error(str(item.path), exc)
            failed = True
    if rows:
        print_report([*rows, mean_row(rows)], as_json=args.json)
    return EXIT_FAILED if failed or not rows else 0


def _resolve_model(model: str | None, kind: str = "asr", option: str = "-m") -> Path | None:
    """The given directory, else the bundled demo model of `kind` (with a notice); None (and an error line)
    when there is neither."""
    if model:
        return Path(model)
    bundled = bundled_model_dir(kind)
    if bundled is None:
        _error(option, f"no {kind} model directory given and no bundled demo {kind} model is installed")
    else:
        print(f"note: no {option} given, using the bundled demo {kind} model {bundled}", file=sys.stderr)
    return bundled


def _load_aligner(directory: str | None, option: str, threads: int) -> Aligner | None:
    path = _resolve_model(directory, "aligner", option)
    if path is None:
        return None
    try:
        return Aligner(path, threads=threads)
    except QwenAsrEdgeError as exc:
        _error(path, exc)
        return None


def _cmd_stream(args: argparse.Namespace, asr: Transcriber) -> int:
    from .stream_cli import file_pieces, run_stream, stdin_pieces
    if len(args.audio) != 1 or args.output_dir or args.timestamps or args.format not in ("txt", "json"):
        _error("--stream", "takes one input (a file, or - for 16 kHz s16le PCM on stdin), txt or json output, "
                           "and no --output-dir or timestamps")
        return EXIT_FAILED
    source = args.audio[0]
    options = StreamOptions(chunk_seconds=args.chunk_seconds, segment_pause=None if args.no_segments else 0.5)
    try:
        stream = asr.stream(context=args.context, language=args.language, options=options)
        pieces = stdin_pieces() if source == "-" else file_pieces(source)
        run_stream(stream, pieces, args.realtime, sys.stdout, args.format)
    except QwenAsrEdgeError as exc:
        _error(source, exc)
        return EXIT_FAILED
    return 0


def _cmd_transcribe(args: argparse.Namespace) -> int:
    if args.skip_existing and not args.output_dir:
        _error("--skip-existing", "needs --output-dir (results on stdout cannot be checked)")
        return EXIT_FAILED
    model = _resolve_model(args.model)
    if model is None:
        return EXIT_FAILED
    timestamps = args.timestamps or bool(args.aligner) or args.format in SUBTITLES
    aligner = _load_aligner(args.aligner, "--aligner", args.threads) if timestamps else None
    if timestamps and aligner is None:
        return EXIT_FAILED
    try:
        asr = Transcriber(model, threads=args.threads, provider=args.provider, max_new_tokens=args.max_new_tokens,
                          beam=args.beam, max_window_seconds=args.max_window, vad=args.vad, aligner=aligner,
                          ort_format=args.ort)
    except QwenAsrEdgeError as exc:
        _error(model, exc)
        return EXIT_FAILED
    try:
        normalize_language(args.language, asr.languages)
    except QwenAsrEdgeError as exc:
        _error("--language", exc)
        return EXIT_FAILED
    if args.stream:
        return _cmd_stream(args, asr)
    items = collect_inputs(args.audio, args.glob)
    if not items:
        _error(" ".join(args.audio), "no audio files found")
        return EXIT_FAILED
    if args.format in SUBTITLES and len(items) > 1 and not args.output_dir:
        _error("--format", f"{args.format} subtitles of several inputs need --output-dir (one file each)")
        return EXIT_FAILED
    output_dir = Path(args.output_dir) if args.output_dir else None
    failed = skipped = 0
    with progress_bar(len(items), enabled=not args.no_progress) as bar:
        for item in items:
            target = output_path(output_dir, item, args.format) if output_dir else None
            if target is not None and args.skip_existing and target.exists():
                skipped += 1
                bar.update()
                continue
            try:
                result = asr.transcribe(item.path, context=args.context, language=args.language,
                                        on_segment=lambda seg, name=item.path.name: bar.set_postfix_str(
                                            f"{name} {seg.end:.0f} s", refresh=True))
            except QwenAsrEdgeError as exc:
                bar.clear()
                _error(item.path, exc)
                failed += 1
            else:
                text = io.StringIO()
                write_result(text, item.path, result, args.format)
                if target is not None:
                    write_atomically(target, text.getvalue())
                else:
                    bar.clear()
                    sys.stdout.write(text.getvalue())
                    sys.stdout.flush()
            bar.update()
    if skipped:
        print(f"note: skipped {skipped} input(s) whose output already exists", file=sys.stderr)
    return EXIT_FAILED if failed else 0


def _cmd_align(args: argparse.Namespace) -> int:
    aligner = _load_aligner(args.model, "-m", args.threads)
    if aligner is None:
        return EXIT_FAILED
    try:
        words = aligner.align(args.audio, args.text, args.language)
    except QwenAsrEdgeError as exc:
        _error(args.audio, exc)
        return EXIT_FAILED
    if args.format == "json":
        print(json.dumps({"path": args.audio, "language": args.language, "text": args.text,
                          "words": [{"text": w.text, "start": w.start, "end": w.end} for w in words]}, ensure_ascii=False))
    else:
        cues = build_cues(args.text, words)
        sys.stdout.write(to_srt(cues) if args.format == "srt" else to_vtt(cues))
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    if args.model_dir is None and not args.languages:
        _error("info", "give a model directory, or --languages")
        return EXIT_FAILED
    languages = SUPPORTED_LANGUAGES
    model = None
    if args.model_dir is not None:
        try:
            model = open_model_dir(args.model_dir, verify=args.verify)
        except QwenAsrEdgeError as exc:
            _error(args.model_dir, exc)
            return EXIT_FAILED
        languages = tuple(model.model.get("support_languages") or SUPPORTED_LANGUAGES)
    if args.languages:
        for name in languages:
            print(f"{name}\t{','.join(language_codes(name))}")
        return 0
    m = model.manifest
    total = sum(f["size"] for f in m["files"].values())
    print(json.dumps({"path": str(model.path), "kind": m["kind"], "format_version": m["format_version"],
                      "exporter_version": m["exporter_version"], "quantization": m["quantization"],
                      "size_bytes": total, "model": m["model"], "verified": bool(args.verify)}, indent=2,
                     ensure_ascii=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qwen-asr-edge", description="Qwen3-ASR on the edge, offline.")
    parser.add_argument("--version", action="version", version=f"qwen-asr-edge {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    exp = sub.add_parser("export", help="convert a Hugging Face checkpoint directory to an exported model directory")
    exp.add_argument("checkpoint", help="checkpoint directory (official `thinker.*` or transformers-native -hf layout)")
    exp.add_argument("out_dir", help="output model directory")
    recipe_help = "per-part overrides, e.g. 'decoder=int4:32,embed=int8:128' (parts: encoder_conv, " \
                  "encoder_transformer, decoder, embed, prefill; see docs/quantization.md)"
    exp.add_argument("--quant", default="fp32", choices=sorted(PRESETS), help="weight precision preset [fp32]")
    exp.add_argument("--recipe", default="", help=recipe_help)
    exp.add_argument("--static", action="store_true",
                     help="static-shape graphs for NPUs (ASR, fp32; then `quantize --quant qdq`), see docs/npu.md")
    exp.add_argument("--kv-capacity", type=int, default=1024, help="--static: decoder cache slots [1024]")
    exp.add_argument("--prefill-tokens", type=int, default=32, help="--static: prompt tokens per prefill call [32]")
    exp.add_argument("--ort", action="store_true", help="also write ORT-format copies of the graphs and the operator "
                     "config of a minimal ONNX Runtime build (mobile), see docs/mobile")
    exp.set_defaults(func=_cmd_export)

    qu = sub.add_parser("quantize", help="quantize an fp32 exported model directory (no torch needed)")
    qu.add_argument("fp32_dir")
    qu.add_argument("out_dir")
    qu.add_argument("--quant", default="int4", choices=sorted(set(PRESETS) - {"fp32"}) + ["qdq"],
                    help="weight-only preset (int4, int8); w8a8: int8 weights and per-token int8 activations "
                         "(opt-in, docs/quantization.md); fast: w8a8 encoder and prompt, int4 decode steps (both "
                         "decoders in memory); or qdq: 16-bit activations / 8-bit weights for NPUs [int4]")
    qu.add_argument("--recipe", default="", help=recipe_help)
    qu.add_argument("--calibration", nargs="+", metavar="AUDIO", help="files or directories of speech (qdq only)")
    qu.add_argument("--ort", action="store_true", help="also write ORT-format copies of the quantized graphs (mobile)")
    qu.set_defaults(func=_cmd_quantize)

    rep = sub.add_parser("quant-report", help="compare a quantized export with its fp32 source on audio files")
    rep.add_argument("fp32_dir")
    rep.add_argument("quant_dir")
    rep.add_argument("audio", nargs="+", help="audio files or directories")
    rep.add_argument("--json", action="store_true", help="one JSON line per file instead of a markdown table")
    rep.add_argument("-t", "--threads", type=int, default=0, help="CPU threads [0: ONNX Runtime's default]")
    rep.set_defaults(func=_cmd_quant_report)

    tr = sub.add_parser("transcribe", help="transcribe audio files or directories")
    tr.add_argument("audio", nargs="+", help="audio files or directories (searched recursively)")
    tr.add_argument("--glob", help="in directories, take the files matching this pattern (e.g. '*.m4a') "
                                   "instead of every file with an audio suffix")
    tr.add_argument("-o", "--output-dir", help="write one result file per input here (same relative paths) "
                                               "instead of printing to stdout")
    tr.add_argument("--skip-existing", action="store_true",
                    help="with --output-dir: skip inputs whose result file exists (resume a batch)")
    tr.add_argument("--max-window", type=float, default=DEFAULT_MAX_WINDOW_SECONDS,
                    help="longest audio window in seconds, cut at a quiet point; 1200 is the official wrapper's "
                         f"[{DEFAULT_MAX_WINDOW_SECONDS:g}]")
    tr.add_argument("--vad", help="cut windows around speech found by a voice-activity detector: energy (built in), "
                                  "silero (the silero-vad package's ONNX model) or a path to a Silero VAD .onnx; "
                                  "default: no VAD, windows tile the audio and are cut at quiet points")
    tr.add_argument("--timestamps", action="store_true",
                    help="word timestamps from a forced aligner (--aligner, default: the bundled demo aligner); "
                         "json gets `words`; srt/vtt imply it")
    tr.add_argument("--aligner", help="exported forced-aligner directory for --timestamps")
    tr.add_argument("--stream", action="store_true",
                    help="live transcription of one input (a file, or - for 16 kHz mono s16le PCM on stdin): partial "
                         "text redrawn on a terminal, one line per finished segment when piped")
    tr.add_argument("--realtime", action="store_true", help="with --stream: feed a file at its real-time pace")
    tr.add_argument("--chunk-seconds", type=float, default=2.0, help="with --stream: seconds per decode [2.0]")
    tr.add_argument("--no-segments", action="store_true",
                    help="with --stream: one segment for the whole stream (the official algorithm; its cost per "
                         "chunk then grows with the stream) instead of cutting at pauses")
    tr.add_argument("--no-progress", action="store_true", help="no progress bar (it is shown only on terminals)")
    tr.add_argument("-m", "--model", help="exported model directory [bundled demo model]")
    tr.add_argument("-f", "--format", default="txt", choices=sorted(FORMATS), help="output format [txt]")
    tr.add_argument("-l", "--language", help="force the language: a name or ISO code (English, en, yue; see "
                                             "`info --languages`); default: detect")
    tr.add_argument("--context", default="", help="context / hot words given to the model as its system text")
    tr.add_argument("--max-new-tokens", type=int, help="generation limit per window [16 + 16 per second of audio]")
    tr.add_argument("--beam", type=int, default=1, help="beam width; 1 is greedy decoding, as the official model [1]")
    tr.add_argument("-t", "--threads", type=int, default=0, help="CPU threads (0: ONNX Runtime's default) [0]")
    tr.add_argument("--ort", action="store_true", help="run the model's ORT-format copies (export --ort), as a phone would")
    tr.add_argument("--provider", default="cpu", choices=PROVIDERS,
                    help="execution provider; falls back to the CPU with a notice where unusable [cpu]")
    tr.set_defaults(func=_cmd_transcribe)

    al = sub.add_parser("align", help="word timestamps of a known transcript (forced alignment)")
    al.add_argument("audio", help="audio file (at most 180 s)")
    al.add_argument("--text", required=True, help="the transcript")
    al.add_argument("-l", "--language", required=True, help="language of the text (name or ISO code)")
    al.add_argument("-m", "--model", help="exported forced-aligner directory [bundled demo aligner]")
    al.add_argument("-f", "--format", default="json", choices=["json", "srt", "vtt"], help="output format [json]")
    al.add_argument("-t", "--threads", type=int, default=0, help="CPU threads (0: ONNX Runtime's default) [0]")
    al.set_defaults(func=_cmd_align)

    info = sub.add_parser("info", help="describe an exported model directory")
    info.add_argument("model_dir", nargs="?")
    info.add_argument("--languages", action="store_true",
                      help="list the language names and ISO codes -l/--language accepts (the model's, or the official list)")
    info.add_argument("--verify", action="store_true", help="recompute every file's sha256")
    info.set_defaults(func=_cmd_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `| head`: the reader is gone; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
