"""Train a tiny Qwen3-ForcedAligner-architecture model on CPU (the demo aligner), starting from an ASR checkpoint.

    python -m training.train_aligner --data DATA_DIR (--asr ASR_CKPT | --init ALIGNER_CKPT) --out CKPT_DIR [--steps 1500]

DATA_DIR is the synthetic corpus of `training.synth` (manifests whose lines carry `words`: text, start, end
in seconds, exact since every word was synthesized alone). The audio encoder and decoder start from the
trained ASR checkpoint ASR_CKPT (same widths; the token table is kept frozen); a new head of `classify_num`
classes (80 ms each) scores the two `<timestamp>` slots after every word, non-shifted as in the official
model: the logits at a slot position itself give its class. The prompt is exactly the one the runtime
builds (`Aligner.align_window`). `--init` continues from an aligner checkpoint instead (head included),
e.g. the bundled demo aligner turned back into one by `python -m training.from_model_dir`.

Loss: cross-entropy over the slot classes, plus `--position-weight` x the same head's cross-entropy at every
audio token against that token's own start time, read after decoder layer `--position-layer` (training
only; the runtime never reads those rows; an earlier layer's output is what the slots' later attention can
copy). The classes are absolute times, but nothing in the architecture tells a token where it is: the
encoder's positions restart every 1 s chunk and RoPE is relative, and audio tokens come 13 per second while
classes are 80 ms (12.5 per second). Without that dense signal the tiny model learned "later" only
roughly: the first demo aligner's errors grew with time (22 ms mean below 0.5 s, 180 ms past 4.5 s; words
placed about 2.4 % late).

`--tempo` and `--warp` perturb each training log-mel (speaking rate, and vocal tract length by stretching the
mel axis) with the word times moved along: the continued aligner was exact on training voices (34 ms) and
twice as far off on held-out ones (74 ms), with a voice-dependent lateness (+108 ms for one held-out voice);
two continuations with `--tempo 0.15 --warp 0.08` brought the held-out AAS from 78 to 58 ms (README).

Resumable from CKPT_DIR.run/state.pt; the result is an official-layout checkpoint (thinker model_type
qwen3_forced_aligner) that `qwen-asr-edge export` converts.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from qwen_asr_edge.aligner import TIMESTAMP
from qwen_asr_edge.audio import load_audio
from qwen_asr_edge.encoder import CHUNK_TOKENS
from qwen_asr_edge.export.checkpoint import load_state_dict, save_official_checkpoint
from qwen_asr_edge.export.config import parse_config
from qwen_asr_edge.export.random_checkpoint import write_tokenizer
from qwen_asr_edge.export.reference_model import Qwen3ASR
from qwen_asr_edge.export.tokenizer_export import build_tokenizer
from qwen_asr_edge.features import log_mel_spectrogram
from qwen_asr_edge.prompt import PromptTokenizer
from qwen_asr_edge.words import split_words

from .train_asr import batches, empty_caches, encode_audio, lr_at, read_manifest, spec_augment

CLASSES = 5000
SEGMENT_MS = 80
TIMESTAMP_ID = 151705


@dataclass
class AlignExample:
    mel: np.ndarray  # [128, T] float16
    words: list[str]
    times_ms: list[float]  # 2 per word: start, end

    @property
    def classes(self) -> list[int]:
        return time_classes(self.times_ms)


def time_classes(times_ms: list[float]) -> list[int]:
    """Each time's 80 ms class: round(t / 80 ms)."""
    return [round(t / SEGMENT_MS) for t in times_ms]


def load_align_examples(path: Path) -> list[AlignExample]:
    out = []
    for row in read_manifest(path):
        words = [w["text"] for w in row["words"]]
        if words != split_words(row["text"], row.get("language") or "English"):
            raise SystemExit(f"{row['audio']}: manifest words differ from the aligner's word splitting")
        times_ms = [t * 1000 for w in row["words"] for t in (w["start"], w["end"])]
        out.append(AlignExample(log_mel_spectrogram(load_audio(row["audio"])).astype(np.float16), words, times_ms))
    return out


def perturb(mel: torch.Tensor, times_ms: list[float], rng: random.Random, tempo: float,
            warp: float) -> tuple[torch.Tensor, list[int]]:
    """Tempo and vocal-tract-length perturbation of a [128, T] log-mel: resampled (linearly) to r x T frames,
    r uniform in [1 - tempo, 1 + tempo], and its mel axis stretched by a, uniform in [1 - warp, 1 + warp]
    (cropped to 128 bins, or padded with the clip's floor); returns it with the word times' classes at r x
    the time. Speakers and speaking rates the corpus never had, for the exact word times it has."""
    if not tempo and not warp:
        return mel, time_classes(times_ms)
    r, a = rng.uniform(1 - tempo, 1 + tempo), rng.uniform(1 - warp, 1 + warp)
    bins = round(mel.shape[0] * a)
    out = F.interpolate(mel[None, None], size=(bins, max(8, round(mel.shape[1] * r))), mode="bilinear",
                        align_corners=False)[0, 0]
    if bins < mel.shape[0]:
        out = torch.cat([out, out.new_full((mel.shape[0] - bins, out.shape[1]), float(mel.min()))])
    return out[:mel.shape[0]], time_classes([t * r for t in times_ms])


def aligner_config(asr_config: dict) -> dict:
    """The ASR checkpoint's config turned into an aligner's, as the released aligner config is laid out."""
    config = json.loads(json.dumps(asr_config))
    thinker = config["thinker_config"]
    thinker.update(model_type="qwen3_forced_aligner", classify_num=CLASSES, dtype="float32")
    thinker["text_config"]["tie_word_embeddings"] = False
    config.update(timestamp_token_id=TIMESTAMP_ID, timestamp_segment_time=SEGMENT_MS)
    return config


def prompt_ids(tokens: PromptTokenizer, n_audio: int, words: list[str]) -> list[int]:
    text = "<|audio_start|><|audio_pad|><|audio_end|>" + "".join(w + TIMESTAMP * 2 for w in words)
    return tokens.ids_with_audio(text, n_audio).tolist()


def audio_token_classes(n_tokens: int) -> torch.Tensor:
    """The class of each audio token's start time: token i of 1 s chunk c starts at c s + i x 80 ms (three
    stride-2 convs: 8 mel frames per token, 13 tokens per chunk)."""
    j = torch.arange(n_tokens)
    start_ms = (j // CHUNK_TOKENS) * 1000 + (j % CHUNK_TOKENS) * SEGMENT_MS
    return torch.div(start_ms + SEGMENT_MS // 2, SEGMENT_MS, rounding_mode="floor")


def forward(model: Qwen3ASR, tokens: PromptTokenizer, mels: list[torch.Tensor], words: list[list[str]],
            position_layer: int = -1) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """One batched pass; per example the [2 * n_words, classes] slot logits and the [n_audio, hidden]
    normed hidden states of the audio tokens after decoder layer `position_layer` (-1: the last)."""
    audio = encode_audio(model, mels)
    seqs = [prompt_ids(tokens, len(a), w) for a, w in zip(audio, words)]
    width = max(len(s) for s in seqs)
    ids = torch.tensor([s + [151643] * (width - len(s)) for s in seqs])
    x = model.model.embed_tokens(ids).masked_scatter((ids == tokens.audio_token_id)[..., None], torch.cat(audio))
    captured = []
    hook = model.model.layers[position_layer].register_forward_hook(lambda _, __, out: captured.append(out[0]))
    try:
        hidden, _ = model.model(x, torch.arange(width).repeat(len(seqs), 1), empty_caches(model, len(seqs)))
    finally:
        hook.remove()
    at_layer = model.model.norm(captured[0])
    slots = [model.lm_head(hidden[i, ids[i] == TIMESTAMP_ID]) for i in range(len(seqs))]
    return slots, [at_layer[i, ids[i] == tokens.audio_token_id] for i in range(len(seqs))]


@torch.no_grad()
def alignment_error(model: Qwen3ASR, tokens: PromptTokenizer, examples: list[AlignExample]) -> dict[str, float]:
    """AAS (mean over words of (|start error| + |end error|) / 2, ms) and boundaries within 20 / 50 ms,
    from the raw argmax (no repair)."""
    errors = []
    for e in examples:
        logits = forward(model, tokens, [torch.from_numpy(e.mel.astype(np.float32))], [e.words])[0][0]
        errors += (np.abs(logits.argmax(-1).numpy() - np.array(e.classes)) * SEGMENT_MS).tolist()
    errors = np.array(errors, dtype=np.float64)
    return {"aas_ms": float(errors.mean()), "within_20ms": float((errors <= 20).mean()),
            "within_50ms": float((errors <= 50).mean())}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    start = parser.add_mutually_exclusive_group(required=True)
    start.add_argument("--asr", type=Path, help="trained ASR checkpoint to start from (new head)")
    start.add_argument("--init", type=Path, help="aligner checkpoint to continue from")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=24)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--position-weight", type=float, default=0.5,
                        help="weight of the audio tokens' own-time loss [0.5]")
    parser.add_argument("--position-layer", type=int, default=-1,
                        help="decoder layer whose output the own-time loss reads (-1: the last) [-1]")
    parser.add_argument("--tempo", type=float, default=0.0,
                        help="tempo perturbation: the log-mel resampled in time by up to +-TEMPO (0.15: 15 %%) [0]")
    parser.add_argument("--warp", type=float, default=0.0,
                        help="vocal-tract-length perturbation: the mel axis stretched by up to +-WARP [0]")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save-every", type=int, default=250)
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--eval-count", type=int, default=60)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)

    run = args.out.with_name(args.out.name + ".run")
    run.mkdir(parents=True, exist_ok=True)
    source = args.asr or args.init
    raw_config = json.loads((source / "config.json").read_text())
    if args.asr:
        raw_config = aligner_config(raw_config)
    write_tokenizer(run)
    (run / "config.json").write_text(json.dumps(raw_config, indent=2))
    tokenizer, _ = build_tokenizer(run, raw_config["transformers_version"])
    model = Qwen3ASR(parse_config(raw_config))
    weights = load_state_dict(source, "official")
    if args.asr:
        weights.pop("lm_head.weight", None)
        missing, unexpected = model.load_state_dict(weights, strict=False)
        assert missing == ["lm_head.weight"] and not unexpected, (missing, unexpected)
        with torch.no_grad():
            model.lm_head.weight.normal_(0.0, 0.02)
    else:
        model.load_state_dict(weights)
    # The token table stays the ASR model's: the bundled aligner then stores the very same bytes (git keeps
    # one copy), and the table barely matters here (the text is given, only the slots are scored).
    model.model.embed_tokens.weight.requires_grad_(False)
    tokens = PromptTokenizer(tokenizer, model.cfg.audio_token_id)

    train = load_align_examples(args.data / "train" / "manifest.jsonl")
    heldout = load_align_examples(args.data / "heldout" / "manifest.jsonl")[:args.eval_count]
    print(f"{len(train)} training utterances", file=sys.stderr)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.01,
                                  betas=(0.9, 0.98))
    state_path, step = run / "state.pt", 0
    if state_path.is_file():
        state = torch.load(state_path, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step = int(state["step"])
        rng.seed(args.seed + step)
        print(f"resumed at step {step}", file=sys.stderr)
    stream = batches(train, args.batch, rng)
    model.train()
    started, smoothed = time.time(), None
    while step < args.steps:
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, args.steps, args.lr, warmup=100)
        batch = next(stream)
        mels, classes = zip(*(perturb(torch.from_numpy(e.mel.astype(np.float32)), e.times_ms, rng, args.tempo, args.warp)
                              for e in batch))
        logits, audio = forward(model, tokens, [spec_augment(mel, rng) for mel in mels], [e.words for e in batch],
                                args.position_layer)
        loss = F.cross_entropy(torch.cat(logits), torch.tensor([c for example in classes for c in example]))
        if args.position_weight:
            loss = loss + args.position_weight * F.cross_entropy(
                model.lm_head(torch.cat(audio)), torch.cat([audio_token_classes(len(a)) for a in audio]))
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
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step}, run / "state.tmp")
            (run / "state.tmp").replace(state_path)
        if step % args.eval_every == 0 or step == args.steps:
            model.eval()
            print(f"step {step} heldout: {json.dumps(alignment_error(model, tokens, heldout))}", file=sys.stderr, flush=True)
            model.train()
    model.eval()
    save_official_checkpoint(model, raw_config, args.out, dtype=torch.float32, store_tied_head=False)
    write_tokenizer(args.out)
    print(args.out)


if __name__ == "__main__":
    main()
