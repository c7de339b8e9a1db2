"""The official streaming ASR's side of the streaming parity tests. Runs in the virtualenv of `qwen-asr` 0.0.6.

    python official_streaming.py CKPT_DIR OUT.json --audio A.wav [B.wav ...] --max-new-tokens N
                                 [--chunk-seconds 2.0] [--unfixed-chunks 2] [--unfixed-tokens 5]
                                 [--context T] [--language L] [--piece-seconds 0.37]
        For each clip (16 kHz mono): `init_streaming_state`, the audio fed to `streaming_transcribe` in
        pieces of --piece-seconds (the remainder last), then `finish_streaming_transcribe`. OUT.json holds,
        per clip, one record per decode call in call order (`final` marks the finish call; a finish with an
        empty buffer decodes nothing and adds no record): `prefix` (the text the official code appended to
        `state.prompt_raw`), `prompt_tail_ids` (prompt ids after <|audio_end|>, i.e. how prompt + prefix was
        tokenized), `tokens` (generated ids, EOS excluded), `eos` (whether EOS ended the generation),
        `margins` ((top1 - top2) / max|logit| of every step, the EOS step included), `gen_text`, and the
        state after the call: `raw` (`state._raw_decoded`), `language`, `text`.

The official streaming functions run only with the vLLM backend, which cannot be installed here: they call
`self.model.generate([{"prompt": ..., "multi_modal_data": {"audio": [audio]}}], sampling_params=...,
use_tqdm=False)` and read `outputs[0].outputs[0].text`. They are driven unchanged; `TransformersAsVllm`
answers that call with the transformers backend, preparing inputs as `_infer_asr_transformers` does, decoding
greedily, and detokenizing with skip_special_tokens=True as vLLM does. The encoder gets the 8 s windows of
`patch_encoder_windows`.
"""
from __future__ import annotations

import argparse
import json
import sys
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import soundfile as sf
import torch

from qwen_asr import Qwen3ASRModel
from qwen_asr.inference.qwen3_asr import ASRStreamingState

sys.path.insert(0, str(Path(__file__).resolve().parent))
from official_model import patch_encoder_windows  # noqa: E402

EOS_IDS = (151645, 151643)  # the official `Qwen3ASRForConditionalGeneration.generate` default
AUDIO_END_ID = 151670


class TransformersAsVllm:
    """Stands in for `vllm.LLM` in the official streaming code; records every call in `calls`."""

    def __init__(self, model: Any, processor: Any, max_new_tokens: int) -> None:
        self.model, self.processor, self.max_new_tokens = model, processor, max_new_tokens
        self.calls: list[dict[str, Any]] = []

    def generate(self, batch: list[dict[str, Any]], sampling_params: Any, use_tqdm: bool) -> list[SimpleNamespace]:
        (item,) = batch
        (audio,) = item["multi_modal_data"]["audio"]
        prompt = item["prompt"]
        inputs = self.processor(text=[prompt], audio=[audio], return_tensors="pt", padding=True)
        inputs = inputs.to(self.model.device).to(self.model.dtype)
        with torch.no_grad():
            out = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False,
                                      output_logits=True)
        prompt_ids = inputs["input_ids"][0].tolist()
        generated = out.sequences[0, len(prompt_ids):].tolist()
        eos = bool(generated) and generated[-1] in EOS_IDS
        tokens = generated[:-1] if eos else generated
        text = self.processor.batch_decode([tokens], skip_special_tokens=True, clean_up_tokenization_spaces=False)[0]
        after_audio = len(prompt_ids) - prompt_ids[::-1].index(AUDIO_END_ID)
        self.calls.append({"prompt": prompt, "prompt_tail_ids": prompt_ids[after_audio:], "tokens": tokens,
                           "eos": eos, "margins": relative_margins(torch.cat(out.logits)), "gen_text": text})
        return [SimpleNamespace(outputs=[SimpleNamespace(text=text)])]


def relative_margins(logits: torch.Tensor) -> list[float]:
    """(top1 - top2) / max|logit| of each row of [steps, V] logits."""
    top2 = logits.float().topk(2, dim=-1).values
    return ((top2[:, 0] - top2[:, 1]) / logits.float().abs().amax(dim=-1)).tolist()


def load(ckpt: Path, max_new_tokens: int) -> tuple[Qwen3ASRModel, TransformersAsVllm]:
    """The transformers-backend model, switched to the vLLM code paths with the shim as its engine."""
    asr = Qwen3ASRModel.from_pretrained(str(ckpt), dtype=torch.float32, max_new_tokens=max_new_tokens)
    asr.model.eval()
    patch_encoder_windows(asr.model)
    shim = TransformersAsVllm(asr.model, asr.processor, max_new_tokens)
    asr.backend, asr.model = "vllm", shim
    asr.sampling_params = SimpleNamespace(temperature=0.0, max_tokens=max_new_tokens)
    return asr, shim


def record(call: dict[str, Any], index: int, final: bool, state: ASRStreamingState) -> dict[str, Any]:
    prompt = call.pop("prompt")
    assert prompt.startswith(state.prompt_raw)
    return {"index": index, "final": final, "prefix": prompt[len(state.prompt_raw):], **call,
            "raw": state._raw_decoded, "language": state.language, "text": state.text}


def stream_clip(asr: Qwen3ASRModel, shim: TransformersAsVllm, wav: np.ndarray, piece: int,
                state: ASRStreamingState) -> list[dict[str, Any]]:
    """Feeds `wav` in pieces, then finishes; one record per decode call, with the state right after it."""
    chunks: list[dict[str, Any]] = []

    def collect(final: bool) -> None:
        # only the state after a piece's last decode is observable; pieces <= a chunk decode at most once
        new = shim.calls[len(chunks):]
        assert len(new) <= 1
        if new:
            chunks.append(record(new[0], len(chunks), final, state))

    for start in range(0, len(wav), piece):
        asr.streaming_transcribe(wav[start:start + piece], state)
        collect(final=False)
    asr.finish_streaming_transcribe(state)
    collect(final=True)
    return chunks


def run(ckpt: Path, out: Path, audios: list[Path], max_new_tokens: int, chunk_seconds: float, unfixed_chunks: int,
        unfixed_tokens: int, context: str, language: str | None, piece_seconds: float) -> None:
    asr, shim = load(ckpt, max_new_tokens)
    piece = max(1, round(piece_seconds * 16000))
    clips, prompt_raw = [], None
    for path in audios:
        wav, rate = sf.read(str(path), dtype="float32")
        assert rate == 16000 and wav.ndim == 1
        state = asr.init_streaming_state(context=context, language=language, unfixed_chunk_num=unfixed_chunks,
                                         unfixed_token_num=unfixed_tokens, chunk_size_sec=chunk_seconds)
        prompt_raw = state.prompt_raw
        shim.calls.clear()
        chunks = stream_clip(asr, shim, wav, piece, state)
        clips.append({"clip": path.name, "samples": len(wav), "chunks": chunks, "language": state.language,
                      "text": state.text})
    meta = {"clips": clips, "prompt_raw": prompt_raw, "context": context, "language": language,
            "max_new_tokens": max_new_tokens, "chunk_seconds": chunk_seconds, "unfixed_chunks": unfixed_chunks,
            "unfixed_tokens": unfixed_tokens, "piece_seconds": piece_seconds,
            "versions": {"transformers": __import__("transformers").__version__, "torch": torch.__version__,
                         "qwen_asr": version("qwen-asr")}}
    out.write_text(json.dumps(meta, indent=2, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("ckpt", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--audio", type=Path, nargs="+", required=True)
    parser.add_argument("--max-new-tokens", type=int, required=True)
    parser.add_argument("--chunk-seconds", type=float, default=2.0)
    parser.add_argument("--unfixed-chunks", type=int, default=2)
    parser.add_argument("--unfixed-tokens", type=int, default=5)
    parser.add_argument("--context", default="")
    parser.add_argument("--language")
    parser.add_argument("--piece-seconds", type=float, default=0.37)
    args = parser.parse_args()
    if not 0 < args.piece_seconds <= args.chunk_seconds:
        parser.error("--piece-seconds must be in (0, --chunk-seconds]")
    torch.set_num_threads(2)
    run(args.ckpt, args.out, args.audio, args.max_new_tokens, args.chunk_seconds, args.unfixed_chunks,
        args.unfixed_tokens, args.context, args.language, args.piece_seconds)


if __name__ == "__main__":
    sys.exit(main())
