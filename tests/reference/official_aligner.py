"""The official forced aligner's side of the aligner parity tests. Runs in the virtualenv of `qwen-asr` 0.0.6.

    python official_aligner.py build OUT_DIR --config tiny-a|tiny-b --classes K [--seed N]
        A random-weight Qwen3-ForcedAligner checkpoint (thinker model_type qwen3_forced_aligner, K classes,
        timestamp token 151705, 80 ms per class) built with the official classes and `save_pretrained`;
        weights made discriminating as in official_model.py. The caller adds the tokenizer files.
    python official_aligner.py align CKPT OUT.json --audio A.wav ... --text T ... --language L ...
        `Qwen3ForcedAligner.align` on each (audio, text, language), batch size 1, encoder windows patched as
        in official_model.py; OUT.json holds the words with start/end seconds and the raw slot classes.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import soundfile as sf
import torch

from official_model import CONFIGS, build, patch_encoder_windows
from qwen_asr.inference.qwen3_forced_aligner import Qwen3ForcedAligner


def align(ckpt: Path, out: Path, audios: list[Path], texts: list[str], languages: list[str]) -> None:
    aligner = Qwen3ForcedAligner.from_pretrained(str(ckpt), dtype=torch.float32)
    model = aligner.model.eval()
    assert model.thinker.lm_head.out_features == model.config.thinker_config.classify_num
    patch_encoder_windows(model)
    classes = []
    model.thinker.register_forward_hook(lambda module, args, kwargs_out: classes.append(
        kwargs_out.logits.argmax(-1)[0].tolist()))
    records = []
    for path, text, language in zip(audios, texts, languages):
        wav, rate = sf.read(str(path), dtype="float32")
        assert rate == 16000 and wav.ndim == 1
        result = aligner.align(audio=(wav, 16000), text=text, language=language)[0]
        records.append({"clip": path.name, "text": text, "language": language,
                        "words": [{"text": w.text, "start": w.start_time, "end": w.end_time} for w in result],
                        "classes": classes[-1]})
    out.write_text(json.dumps(records, indent=2, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("out_dir", type=Path)
    b.add_argument("--config", choices=sorted(CONFIGS), required=True)
    b.add_argument("--classes", type=int, required=True)
    b.add_argument("--seed", type=int, default=0)
    a = sub.add_parser("align")
    a.add_argument("ckpt", type=Path)
    a.add_argument("out", type=Path)
    a.add_argument("--audio", type=Path, nargs="+", required=True)
    a.add_argument("--text", nargs="+", required=True)
    a.add_argument("--language", nargs="+", required=True)
    args = parser.parse_args()
    torch.set_num_threads(2)
    if args.command == "build":
        build(args.out_dir, args.config, args.seed, aligner_classes=args.classes)
    else:
        align(args.ckpt, args.out, args.audio, args.text, args.language)


if __name__ == "__main__":
    sys.exit(main())
