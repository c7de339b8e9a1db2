"""Command line: `qwen-asr-edge export | quantize | quant-report | transcribe | info`.

Errors are one line on stderr (`error: <file>: <reason>`), the other inputs of a batch still run, and
the exit status is 2 if any input failed or the model is unusable, 130 on Ctrl-C, 0 otherwise.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from . import __version__
from .errors import QwenAsrEdgeError
from .formats import FORMATS, write_result
from .model_dir import open_model_dir
from .quantize.recipe import PRESETS

EXIT_FAILED = 2
EXIT_INTERRUPTED = 130
AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".oga", ".mp3", ".aiff", ".aif", ".au", ".opus"}


def _error(where: str, reason: object) -> None:
    print(f"error: {where}: {reason}", file=sys.stderr)


def _expand_inputs(paths: Sequence[str]) -> list[Path]:
    """Files as given; directories contribute their audio files (sorted, recursively)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in AUDIO_SUFFIXES)
        else:
            out.append(p)
    return out


def _cmd_export(args: argparse.Namespace) -> int:
    try:
        from .export import export_checkpoint
    except ImportError as exc:
        _error("export", f"the exporter needs the [export] extra: pip install 'qwen-asr-edge[export]' ({exc.name} missing)")
        return EXIT_FAILED
    try:
        export_checkpoint(args.checkpoint, args.out_dir, quant=args.quant, recipe=args.recipe)
    except QwenAsrEdgeError as exc:
        _error(args.checkpoint, exc)
        return EXIT_FAILED
    return 0


def _cmd_quantize(args: argparse.Namespace) -> int:
    try:
        from .quantize.pipeline import quantize_model_dir
    except ImportError as exc:
        _error("quantize", f"quantization needs the [export] extra: pip install 'qwen-asr-edge[export]' ({exc.name} missing)")
        return EXIT_FAILED
    try:
        calibration = [str(p) for p in _expand_inputs(args.calibration)] if args.calibration else []
        quantize_model_dir(args.fp32_dir, args.out_dir, args.quant, args.recipe, calibration)
    except QwenAsrEdgeError as exc:
        _error(args.fp32_dir, exc)
        return EXIT_FAILED
    return 0


def _cmd_quant_report(args: argparse.Namespace) -> int:
    from .quantize.report import compare_file, mean_row, print_report
    from .transcriber import Transcriber
    try:
        fp32, quant = (Transcriber(d, threads=args.threads) for d in (args.fp32_dir, args.quant_dir))
    except QwenAsrEdgeError as exc:
        _error("model", exc)
        return EXIT_FAILED
    rows, failed = [], False
    for path in _expand_inputs(args.audio):
        try:
            rows.append(compare_file(fp32, quant, str(path)))
        except QwenAsrEdgeError as exc:
            _error(str(path), exc)
            failed = True
    if rows:
        print_report([*rows, mean_row(rows)], as_json=args.json)
    return EXIT_FAILED if failed or not rows else 0


def _resolve_model(model: str | None) -> Path | None:
    if model:
        return Path(model)
    from .transcriber import bundled_model_dir
    bundled = bundled_model_dir()
    if bundled is not None:
        print(f"note: no -m given, using the bundled demo model {bundled}", file=sys.stderr)
    return bundled


def _cmd_transcribe(args: argparse.Namespace) -> int:
    from .transcriber import Transcriber
    model = _resolve_model(args.model)
    if model is None:
        _error("-m", "no model directory given and no bundled demo model is installed")
        return EXIT_FAILED
    try:
        asr = Transcriber(model, threads=args.threads, provider=args.provider, max_new_tokens=args.max_new_tokens,
                          beam=args.beam)
    except QwenAsrEdgeError as exc:
        _error(model, exc)
        return EXIT_FAILED
    failed = False
    for path in _expand_inputs(args.audio):
        try:
            result = asr.transcribe(path, context=args.context, language=args.language)
        except QwenAsrEdgeError as exc:
            _error(path, exc)
            failed = True
            continue
        write_result(sys.stdout, path, result, args.format)
        sys.stdout.flush()
    return EXIT_FAILED if failed else 0


def _cmd_info(args: argparse.Namespace) -> int:
    try:
        model = open_model_dir(args.model_dir, verify=args.verify)
    except QwenAsrEdgeError as exc:
        _error(args.model_dir, exc)
        return EXIT_FAILED
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
                  "encoder_transformer, decoder, embed; see docs/quantization.md)"
    exp.add_argument("--quant", default="fp32", choices=sorted(PRESETS), help="weight precision preset [fp32]")
    exp.add_argument("--recipe", default="", help=recipe_help)
    exp.set_defaults(func=_cmd_export)

    qu = sub.add_parser("quantize", help="quantize an fp32 exported model directory (no torch needed)")
    qu.add_argument("fp32_dir")
    qu.add_argument("out_dir")
    qu.add_argument("--quant", default="int4", choices=sorted(set(PRESETS) - {"fp32"}) + ["qdq"],
                    help="weight-only preset, or qdq: 16-bit activations / 8-bit weights for NPUs [int4]")
    qu.add_argument("--recipe", default="", help=recipe_help)
    qu.add_argument("--calibration", nargs="+", metavar="AUDIO", help="files or directories of speech (qdq only)")
    qu.set_defaults(func=_cmd_quantize)

    rep = sub.add_parser("quant-report", help="compare a quantized export with its fp32 source on audio files")
    rep.add_argument("fp32_dir")
    rep.add_argument("quant_dir")
    rep.add_argument("audio", nargs="+", help="audio files or directories")
    rep.add_argument("--json", action="store_true", help="one JSON line per file instead of a markdown table")
    rep.add_argument("-t", "--threads", type=int, default=0, help="CPU threads [0: ONNX Runtime's default]")
    rep.set_defaults(func=_cmd_quant_report)

    tr = sub.add_parser("transcribe", help="transcribe audio files or directories")
    tr.add_argument("audio", nargs="+", help="audio files or directories")
    tr.add_argument("-m", "--model", help="exported model directory [bundled demo model]")
    tr.add_argument("-f", "--format", default="txt", choices=sorted(FORMATS), help="output format [txt]")
    tr.add_argument("-l", "--language", help="force the language (e.g. English); default: detect")
    tr.add_argument("--context", default="", help="context / hot words given to the model as its system text")
    tr.add_argument("--max-new-tokens", type=int, help="generation limit per window [16 + 16 per second of audio]")
    tr.add_argument("--beam", type=int, default=1, help="beam width; 1 is greedy decoding, as the official model [1]")
    tr.add_argument("-t", "--threads", type=int, default=0, help="CPU threads (0: ONNX Runtime's default) [0]")
    tr.add_argument("--provider", default="cpu", choices=["cpu"], help="execution provider [cpu]")
    tr.set_defaults(func=_cmd_transcribe)

    info = sub.add_parser("info", help="describe an exported model directory")
    info.add_argument("model_dir")
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
