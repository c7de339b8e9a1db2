"""quant-report: how far a quantized export is from its fp32 source, graph by graph and end to end.

For each audio file, with the same log-mel:
  encoder_conv         max|q - f| / max|f| of the chunk embeddings;
  encoder_transformer  the same for the audio embeddings, both fed the fp32 chunk embeddings
                       (so each graph's own error is measured, not the accumulated one);
  decoder              relative error of the prompt's logits and the top-1 agreement with the fp32 tokens
                       under teacher forcing (both fed the fp32 prompt and the fp32 generated tokens);
  transcripts          word and character error rate of the quantized transcript against the fp32 one.
"""
from __future__ import annotations

import json
import sys
from typing import Sequence, TextIO

import numpy as np

from qwen_asr_edge.audio import load_audio
from qwen_asr_edge.decoding import greedy_decode
from qwen_asr_edge.features import SAMPLE_RATE, log_mel_spectrogram
from qwen_asr_edge.transcriber import Transcriber, default_max_new_tokens


def edit_distance(ref: Sequence, hyp: Sequence) -> int:
    """Levenshtein distance (unit costs) between two sequences."""
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        diagonal, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (r != h))
    return row[-1]


def _rel(q: np.ndarray, f: np.ndarray) -> float:
    return float(np.abs(q - f).max() / max(float(np.abs(f).max()), 1e-12))


def compare_file(fp32: Transcriber, quant: Transcriber, path: str) -> dict:
    audio = load_audio(path)
    mel = log_mel_spectrogram(audio)
    chunks = fp32.encoder.chunk_embeddings(mel)
    embeds = fp32.encoder.windows(chunks)
    ids = fp32.tokenizer.prompt_ids(len(embeds), "", None)
    prompt = fp32.decoder.embed(ids)
    prompt[ids == fp32.tokenizer.audio_token_id] = embeds
    limit = fp32.max_new_tokens or default_max_new_tokens(len(audio) / SAMPLE_RATE)
    ref = greedy_decode(fp32.decoder, prompt, fp32.eos_ids, limit, keep_logits=True)
    q_prompt = quant.decoder.embed(ids)
    q_prompt[ids == quant.tokenizer.audio_token_id] = embeds
    forced = greedy_decode(quant.decoder, q_prompt, quant.eos_ids, limit, keep_logits=True, forced=ref.tokens)
    agree = [int(np.argmax(q)) == int(np.argmax(f)) for q, f in zip(forced.logits, ref.logits)]
    text_f, text_q = (asr.transcribe(audio, sample_rate=SAMPLE_RATE).text for asr in (fp32, quant))
    chars_f, chars_q = text_f.replace(" ", ""), text_q.replace(" ", "")
    return {
        "file": path,
        "encoder_conv_rel_err": _rel(quant.encoder.chunk_embeddings(mel), chunks),
        "encoder_transformer_rel_err": _rel(quant.encoder.windows(chunks), embeds),
        "prefill_logits_rel_err": _rel(forced.logits[0], ref.logits[0]),
        "token_agreement": sum(agree) / len(agree),
        "wer": edit_distance(text_f.split(), text_q.split()) / max(len(text_f.split()), 1),
        "cer": edit_distance(chars_f, chars_q) / max(len(chars_f), 1),
        "fp32_text": text_f,
        "quant_text": text_q,
    }


COLUMNS = ("encoder_conv_rel_err", "encoder_transformer_rel_err", "prefill_logits_rel_err", "token_agreement", "wer", "cer")


def mean_row(rows: list[dict]) -> dict:
    return {"file": "mean", **{c: float(np.mean([r[c] for r in rows])) for c in COLUMNS}}


def print_report(rows: list[dict], out: TextIO | None = None, as_json: bool = False) -> None:
    out = out or sys.stdout
    if as_json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False), file=out)
        return
    print("| file | " + " | ".join(COLUMNS) + " |", file=out)
    print("|---" * (len(COLUMNS) + 1) + "|", file=out)
    for row in rows:
        print(f"| {row['file']} | " + " | ".join(f"{row[c]:.3g}" for c in COLUMNS) + " |", file=out)
