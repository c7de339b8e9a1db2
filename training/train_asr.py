"""Train a tiny Qwen3-ASR-architecture model on CPU (the demo model), or fine-tune on your own data.

    python -m training.train_asr --data DATA_DIR --out CKPT_DIR [--steps 4000] [--batch 24] [--seed 0]

DATA_DIR holds `train/manifest.jsonl` and `heldout/manifest.jsonl` (lines with `audio` (path, relative to
the manifest's folder or absolute), `text`, `language` (English/Chinese/... or omitted)), as written by
`python -m training.synth`. The model is the exporter's reference model (export/reference_model.py) at
small widths, with the real Qwen3 tokenizer; targets follow the official fine-tuning recipe: the prompt
(system, user audio, assistant header) is not scored, the target is `language X<asr_text>text<|im_end|>`
(15% of samples force the language in the prompt and score only `text<|im_end|>`).

Speed on 2 cores: the encoder runs once per batch over all 1 s chunks; logits are computed only at
target positions and over a sampled vocabulary (every token of the corpus targets plus random negatives;
all rows start small, so untrained rows stay far below trained ones). A training-only CTC head on the
audio embeddings (weight CTC_WEIGHT, not saved in the checkpoint) makes the encoder spell the transcript
early; without it the decoder first learns a language model and ignores the audio for a long time. Progress is checkpointed to
CKPT_DIR.run/ every --save-every steps and resumed automatically. The result is an official-layout
checkpoint that `qwen-asr-edge export` converts.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from qwen_asr_edge.audio import load_audio
from qwen_asr_edge.encoder import CHUNK_FRAMES, tokens_for_frames
from qwen_asr_edge.export.checkpoint import save_official_checkpoint
from qwen_asr_edge.export.config import parse_config
from qwen_asr_edge.export.random_checkpoint import official_config, write_tokenizer
from qwen_asr_edge.export.reference_model import MASK_BIAS, Qwen3ASR
from qwen_asr_edge.export.tokenizer_export import build_tokenizer
from qwen_asr_edge.features import log_mel_spectrogram
from qwen_asr_edge.postprocess import parse_asr_output
from qwen_asr_edge.prompt import PromptTokenizer

DEMO_SPEC = dict(
    audio=dict(d_model=128, encoder_layers=3, encoder_attention_heads=4, encoder_ffn_dim=512, output_dim=128,
               downsample_hidden_size=32),
    text=dict(hidden_size=128, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2, head_dim=32,
              intermediate_size=384, mrope_section=[8, 4, 4]),
)
IM_END, ENDOFTEXT = 151645, 151643
FORCED_LANGUAGE_SHARE = 0.15
NEGATIVES = 2048
CTC_WEIGHT = 0.5


@dataclass
class Example:
    mel: np.ndarray  # [128, T] float16
    language: str
    text: str


def read_manifest(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:
        audio = Path(row["audio"])
        row["audio"] = audio if audio.is_absolute() else path.parent / audio
    return rows


def load_examples(path: Path) -> list[Example]:
    out = []
    for i, row in enumerate(read_manifest(path)):
        out.append(Example(log_mel_spectrogram(load_audio(row["audio"])).astype(np.float16),
                           row.get("language") or "", row["text"]))
        if (i + 1) % 500 == 0:
            print(f"features: {i + 1} utterances of {path}", file=sys.stderr)
    return out


class Tokens(PromptTokenizer):
    """Prompt ids exactly as inference builds them, plus the training targets."""

    def prompt(self, n_audio: int, language: str | None) -> list[int]:
        return self.prompt_ids(n_audio, "", language).tolist()

    def target(self, example: Example, forced: bool) -> list[int]:
        header = "" if forced else f"language {example.language or 'None'}<asr_text>"
        return self.encode(header + example.text) + [IM_END]


def encode_audio(model: Qwen3ASR, mels: list[torch.Tensor]) -> list[torch.Tensor]:
    """Official chunking for a batch: all 1 s chunks through the conv stem at once, then every 8 s window
    (padded, key-masked) through the transformer. Returns [N_tok_i, H] per utterance."""
    enc = model.audio_tower
    chunks, counts, lengths = [], [], []
    for mel in mels:
        frames = mel.shape[1]
        n = -(-frames // CHUNK_FRAMES)
        padded = F.pad(mel, (0, n * CHUNK_FRAMES - frames)) if frames >= CHUNK_FRAMES else mel
        chunks.append(padded.reshape(mel.shape[0], n, -1).permute(1, 0, 2) if frames >= CHUNK_FRAMES else mel[None])
        counts.append(n)
        lengths.append(tokens_for_frames(frames))
    if any(m.shape[1] < CHUNK_FRAMES for m in mels):
        conv = [enc.conv_stem(c) for c in chunks]  # sub-second clips are not padded: run them alone
        per_utt = [c.reshape(-1, c.shape[-1])[:n] for c, n in zip(conv, lengths)]
    else:
        conv = enc.conv_stem(torch.cat(chunks))
        per_utt, start = [], 0
        for n, length in zip(counts, lengths):
            per_utt.append(conv[start:start + n].reshape(-1, conv.shape[-1])[:length])
            start += n
    window = 13 * 8
    pieces = [(i, t[s:s + window]) for i, t in enumerate(per_utt) for s in range(0, len(t), window)]
    width = max(len(p) for _, p in pieces)
    batch = torch.stack([F.pad(p, (0, 0, 0, width - len(p))) for _, p in pieces])
    padding = torch.stack([torch.arange(width) >= len(p) for _, p in pieces])
    out = enc.transformer(batch, padding * MASK_BIAS)
    result: list[list[torch.Tensor]] = [[] for _ in mels]
    for (i, p), o in zip(pieces, out):
        result[i].append(o[:len(p)])
    return [torch.cat(r) for r in result]


def empty_caches(model: Qwen3ASR, batch: int) -> list[tuple]:
    t = model.cfg.text
    empty = torch.zeros(batch, t.num_key_value_heads, 0, t.head_dim)
    return [(empty[:1], empty[:1], empty, empty)] * t.num_hidden_layers


def spec_augment(mel: torch.Tensor, rng: random.Random) -> torch.Tensor:
    mel = mel.clone()
    floor = mel.min()
    for _ in range(2):
        width = rng.randint(0, 12)
        start = rng.randint(0, mel.shape[0] - width)
        mel[start:start + width] = floor
    for _ in range(2):
        width = rng.randint(0, min(15, mel.shape[1] // 10))
        start = rng.randint(0, mel.shape[1] - width)
        mel[:, start:start + width] = floor
    return mel


def ctc_loss(head: torch.nn.Module, audio: list[torch.Tensor], texts: list[list[int]], vocab_ids: torch.Tensor) -> torch.Tensor:
    """Auxiliary CTC over the audio embeddings (training only): teaches the encoder to spell the transcript
    tokens early, which the decoder then reads. Class 0 is blank, class k the k-th corpus token."""
    padded = torch.nn.utils.rnn.pad_sequence(audio, batch_first=True)
    log_probs = F.log_softmax(head(padded), dim=-1).transpose(0, 1)
    targets = torch.cat([torch.searchsorted(vocab_ids, torch.tensor(t)) + 1 for t in texts])
    return F.ctc_loss(log_probs, targets, torch.tensor([len(a) for a in audio]), torch.tensor([len(t) for t in texts]),
                      zero_infinity=True)


def batch_loss(model: Qwen3ASR, tokens: Tokens, batch: list[Example], vocab_ids: torch.Tensor,
               rng: random.Random, ctc_head: torch.nn.Module | None = None) -> torch.Tensor:
    mels = [spec_augment(torch.from_numpy(e.mel.astype(np.float32)), rng) for e in batch]
    audio = encode_audio(model, mels)
    seqs, spans = [], []
    for e, a in zip(batch, audio):
        forced = bool(e.language) and rng.random() < FORCED_LANGUAGE_SHARE
        prompt = tokens.prompt(len(a), e.language if forced else None)
        target = tokens.target(e, forced)
        seqs.append(prompt + target)
        spans.append((len(prompt) - 1, len(prompt) + len(target) - 1))
    width = max(len(s) for s in seqs)
    ids = torch.tensor([s + [ENDOFTEXT] * (width - len(s)) for s in seqs])
    x = model.model.embed_tokens(ids)
    x = x.masked_scatter((ids == tokens.audio_token_id)[..., None], torch.cat(audio))
    positions = torch.arange(width).repeat(len(batch), 1)
    hidden, _ = model.model(x, positions, empty_caches(model, len(batch)))
    rows = torch.tensor([i for i, (a, b) in enumerate(spans) for _ in range(a, b)])
    cols = torch.tensor([p for a, b in spans for p in range(a, b)])
    labels = ids[rows, cols + 1]
    negatives = torch.randint(0, model.cfg.text.vocab_size, (NEGATIVES,), generator=torch.Generator().manual_seed(rng.randint(0, 2**31)))
    candidates = torch.unique(torch.cat([vocab_ids, labels, negatives]))
    logits = hidden[rows, cols] @ model.model.embed_tokens.weight[candidates].T
    loss = F.cross_entropy(logits, torch.searchsorted(candidates, labels))
    if ctc_head is not None:
        loss = loss + CTC_WEIGHT * ctc_loss(ctc_head, audio, [tokens.encode(e.text) for e in batch], vocab_ids)
    return loss


@torch.no_grad()
def greedy(model: Qwen3ASR, tokens: Tokens, example: Example, max_new: int = 48) -> str:
    """Reference greedy decoding with the model's own KV cache (prefix = prompt, past = generated)."""
    audio = encode_audio(model, [torch.from_numpy(example.mel.astype(np.float32))])[0]
    ids = torch.tensor([tokens.prompt(len(audio), None)])
    x = model.model.embed_tokens(ids).masked_scatter((ids == tokens.audio_token_id)[..., None], audio)
    hidden, presents = model.model(x, torch.arange(ids.shape[1])[None], empty_caches(model, 1))
    prefix = [(presents[2 * i], presents[2 * i + 1]) for i in range(len(presents) // 2)]
    past = [(c[2], c[3]) for c in empty_caches(model, 1)]
    out: list[int] = []
    weight = model.model.embed_tokens.weight
    for step in range(max_new):
        token = int((hidden[0, -1] @ weight.T).argmax())
        if token in (IM_END, ENDOFTEXT):
            break
        out.append(token)
        caches = [(pk, pv, k, v) for (pk, pv), (k, v) in zip(prefix, past)]
        hidden, presents = model.model(weight[token][None, None], torch.tensor([[ids.shape[1] + step]]), caches)
        past = [(presents[2 * i], presents[2 * i + 1]) for i in range(len(presents) // 2)]
    return tokens.decode(out)


def error_rates(model: Qwen3ASR, tokens: Tokens, examples: list[Example]) -> dict[str, float]:
    """WER for space-delimited languages, CER for Chinese (jiwer), and language-ID accuracy."""
    import jiwer

    refs: dict[str, list[str]] = {}
    hyps: dict[str, list[str]] = {}
    lid = 0
    for e in examples:
        language, text = parse_asr_output(greedy(model, tokens, e))
        lid += language == e.language
        refs.setdefault(e.language, []).append(e.text)
        hyps.setdefault(e.language, []).append(text)
    out = {"lid_accuracy": lid / len(examples)}
    for language in refs:
        if language == "Chinese":
            out["cer_Chinese"] = jiwer.cer(refs[language], hyps[language])
        else:
            out[f"wer_{language}"] = jiwer.wer(refs[language], hyps[language])
    return out


def new_model(run: Path, spec: dict = DEMO_SPEC) -> tuple[dict, Qwen3ASR, Tokens]:
    """A freshly initialised model, its official config.json content and the tokenizer (files written to `run`)."""
    run.mkdir(parents=True, exist_ok=True)
    raw_config = official_config(spec)
    raw_config["thinker_config"]["dtype"] = "float32"
    write_tokenizer(run)
    (run / "config.json").write_text(json.dumps(raw_config, indent=2))
    tokenizer, _ = build_tokenizer(run, raw_config["transformers_version"])
    model = Qwen3ASR(parse_config(raw_config))
    with torch.no_grad():
        model.model.embed_tokens.weight.normal_(0.0, 0.02)
    return raw_config, model, Tokens(tokenizer, model.cfg.audio_token_id)


def lr_at(step: int, steps: int, peak: float, warmup: int = 300) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def batches(examples: list[Example], size: int, rng: random.Random):
    """Endless batches of similar length (sorted buckets, shuffled)."""
    order = sorted(range(len(examples)), key=lambda i: examples[i].mel.shape[1])
    while True:
        groups = [order[i:i + size] for i in range(0, len(order), size)]
        rng.shuffle(groups)
        for g in groups:
            yield [examples[i] for i in g]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--batch", type=int, default=24)
    parser.add_argument("--lr", type=float, default=1.5e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save-every", type=int, default=250)
    parser.add_argument("--eval-every", type=int, default=1000)
    parser.add_argument("--eval-count", type=int, default=60)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)

    run = args.out.with_name(args.out.name + ".run")
    raw_config, model, tokens = new_model(run)

    train = load_examples(args.data / "train" / "manifest.jsonl")
    heldout = load_examples(args.data / "heldout" / "manifest.jsonl")[:args.eval_count]
    vocab = {IM_END}
    for e in train:
        vocab.update(tokens.target(e, False))
    vocab_ids = torch.tensor(sorted(vocab))
    print(f"{len(train)} training utterances, {len(vocab_ids)} distinct target tokens", file=sys.stderr)

    ctc_head = torch.nn.Linear(model.cfg.audio.output_dim, len(vocab_ids) + 1)
    optimizer = torch.optim.AdamW([*model.parameters(), *ctc_head.parameters()], lr=args.lr, weight_decay=0.01,
                                  betas=(0.9, 0.98))
    state_path = run / "state.pt"
    step = 0
    if state_path.is_file():
        state = torch.load(state_path, weights_only=True)
        model.load_state_dict(state["model"])
        ctc_head.load_state_dict(state["ctc_head"])
        optimizer.load_state_dict(state["optimizer"])
        step = int(state["step"])
        rng.seed(args.seed + step)
        print(f"resumed at step {step}", file=sys.stderr)
    stream = batches(train, args.batch, rng)
    model.train()
    started, smoothed = time.time(), None
    while step < args.steps:
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, args.steps, args.lr)
        loss = batch_loss(model, tokens, next(stream), vocab_ids, rng, ctc_head)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        smoothed = loss.item() if smoothed is None else 0.98 * smoothed + 0.02 * loss.item()
        if step % 50 == 0:
            print(f"step {step}/{args.steps} loss {smoothed:.3f} ({(time.time() - started) / 50:.2f} s/step)",
                  file=sys.stderr, flush=True)
            started = time.time()
        if step % args.save_every == 0 or step == args.steps:
            torch.save({"model": model.state_dict(), "ctc_head": ctc_head.state_dict(), "optimizer": optimizer.state_dict(),
                        "step": step},
                       run / "state.tmp")
            (run / "state.tmp").replace(state_path)
        if step % args.eval_every == 0 or step == args.steps:
            model.eval()
            print(f"step {step} heldout: {json.dumps(error_rates(model, tokens, heldout))}", file=sys.stderr, flush=True)
            model.train()
    model.eval()
    save_official_checkpoint(model, raw_config, args.out, dtype=torch.float32, store_tied_head=False)
    write_tokenizer(args.out)
    print(args.out)


if __name__ == "__main__":
    main()
