"""Build the model directory's `tokenizer.json` from a checkpoint's tokenizer files.

Uses the checkpoint's `tokenizer.json` when present, otherwise builds the Qwen2 byte-level BPE from
`vocab.json` + `merges.txt` + the added tokens of `tokenizer_config.json` (what transformers' converter does).

The official package loads its processor with `fix_mistral_regex=True`. In transformers 4.57.3-4.x that
replaces the pre-tokenizer regex by the "Mistral-fixed" pattern below when the checkpoint's config.json
says it was saved by transformers 4.57.3 <= v < 5 (the released Qwen3-ASR checkpoints say 4.57.6). It
splits camelCase words and drops the contraction rule, so it changes how context text, forced-language
prefixes and aligner words are *encoded*; decoding is unaffected. We bake the same choice into the file.
"""
from __future__ import annotations

import json
from pathlib import Path

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

from qwen_asr_edge.errors import ModelDirError

QWEN2_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
MISTRAL_FIXED_REGEX = (
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?"
    r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def official_uses_fixed_regex(transformers_version: str | None) -> bool:
    """True when qwen-asr's `fix_mistral_regex=True` load replaces the pre-tokenizer regex (4.57.2 < v < 5)."""
    if not transformers_version:
        return False
    try:
        parts = tuple(int(p) for p in transformers_version.split(".")[:3])
    except ValueError:
        return False
    return (4, 57, 2) < parts < (5, 0, 0)


def _split(pattern: str) -> pre_tokenizers.Split:
    return pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False)


def _from_vocab_merges(ckpt_dir: Path) -> Tokenizer:
    vocab = json.loads((ckpt_dir / "vocab.json").read_text(encoding="utf-8"))
    merges = []
    for line in (ckpt_dir / "merges.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#version"):
            left, right = line.split(" ")
            merges.append((left, right))
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token=None, fuse_unk=False, byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([_split(QWEN2_REGEX), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    config = json.loads((ckpt_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
    added = sorted(config.get("added_tokens_decoder", {}).items(), key=lambda kv: int(kv[0]))
    for token_id, spec in added:
        token = AddedToken(spec["content"], special=spec.get("special", False), normalized=spec.get("normalized", False),
                           lstrip=spec.get("lstrip", False), rstrip=spec.get("rstrip", False),
                           single_word=spec.get("single_word", False))
        tok.add_tokens([token])
        if tok.token_to_id(spec["content"]) != int(token_id):
            raise ModelDirError(f"{ckpt_dir}: added token {spec['content']!r} would get id "
                                f"{tok.token_to_id(spec['content'])}, tokenizer_config.json says {token_id}")
    return tok


def build_tokenizer(ckpt_dir: Path, transformers_version: str | None) -> tuple[Tokenizer, bool]:
    """The checkpoint's tokenizer as the official processor uses it, and whether the regex fix applied."""
    ckpt_dir = Path(ckpt_dir)
    if (ckpt_dir / "tokenizer.json").is_file():
        tok = Tokenizer.from_file(str(ckpt_dir / "tokenizer.json"))
    elif (ckpt_dir / "vocab.json").is_file() and (ckpt_dir / "merges.txt").is_file():
        tok = _from_vocab_merges(ckpt_dir)
    else:
        raise ModelDirError(f"{ckpt_dir}: no tokenizer (tokenizer.json, or vocab.json + merges.txt)")
    fixed = official_uses_fixed_regex(transformers_version)
    if fixed:
        state = json.loads(tok.to_str())
        pre = state["pre_tokenizer"]
        if pre.get("type") != "Sequence" or pre["pretokenizers"][0].get("type") != "Split":
            raise ModelDirError(f"{ckpt_dir}: unexpected pre-tokenizer {pre.get('type')}; cannot apply the regex fix")
        pre["pretokenizers"][0] = json.loads(_split(MISTRAL_FIXED_REGEX).__getstate__())
        tok = Tokenizer.from_str(json.dumps(state))
    return tok, fixed
