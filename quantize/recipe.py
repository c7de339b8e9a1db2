"""Quantization recipes: the precision of each part of an exported model.

Parts: encoder_conv, encoder_transformer, decoder (its MatMul weights) and embed (the token table, which
is also the tied output head); optionally prefill: a second copy of the decoder graph at another precision,
which an ASR model runs for calls of many new tokens (the prompt, beam search's wide steps) while the
decoder graph runs the one-token steps (an aligner's single pass is a prefill: it takes this precision).
A precision is `fp32`, `int8:BLOCK` or `int4:BLOCK` (weight-only, symmetric blocks of BLOCK input channels,
MatMulNBits with accuracy level 4), or `w8a8` (int8 weights per column and int8 activations per token,
quantize/dynamic.py; on `encoder_conv` also its convolutions, with int8 activations per 1 s chunk,
quantize/conv_w8a8.py; not for `embed`); `embed` takes fp32 or int8.
`--quant` picks a preset; `--recipe "decoder=int4:32,embed=int8:128"` overrides single parts.
"""
from __future__ import annotations

from dataclasses import dataclass

from qwen_asr_edge.errors import InputError

PARTS = ("encoder_conv", "encoder_transformer", "decoder", "embed")
PREFILL = "prefill"  # optional part: absent, the decoder graph runs every call
# Block sizes from the measurements in docs/quantization.md.
PRESETS = {
    "fp32": "encoder_conv=fp32,encoder_transformer=fp32,decoder=fp32,embed=fp32",
    "int8": "encoder_conv=fp32,encoder_transformer=int8:32,decoder=int8:32,embed=int8:64",
    "int4": "encoder_conv=fp32,encoder_transformer=int4:64,decoder=int4:64,embed=int8:64",
    # Opt-in speed for the compute-bound stages (encoder, prefill, aligner); accuracy: docs/quantization.md.
    "w8a8": "encoder_conv=w8a8,encoder_transformer=w8a8,decoder=w8a8,embed=int8:64",
    # w8a8 where arithmetic bounds the time, int4 where reading weights does (one-token decode steps); the
    # price is both decoders in memory (docs/quantization.md).
    "fast": "encoder_conv=w8a8,encoder_transformer=w8a8,decoder=int4:64,prefill=w8a8,embed=int8:64",
}


@dataclass(frozen=True)
class Precision:
    bits: int | None  # None: float32
    block_size: int = 0  # 0 with bits=8: w8a8 (per-column weights, per-token activations)

    @property
    def dynamic(self) -> bool:
        """Activations quantized at run time too (w8a8)."""
        return self.bits == 8 and self.block_size == 0

    def __str__(self) -> str:
        if self.dynamic:
            return "w8a8"
        return "fp32" if self.bits is None else f"int{self.bits}:{self.block_size}"

    @classmethod
    def parse(cls, text: str) -> Precision:
        name, _, block = text.strip().partition(":")
        if name in ("fp32", "w8a8") and not block:
            return cls(None) if name == "fp32" else cls(8, 0)
        if name not in ("int8", "int4"):
            raise InputError(f"precision {text!r}: expected fp32, w8a8, int8:BLOCK or int4:BLOCK")
        size = int(block) if block.isdigit() else 0 if block else 32
        if size < 16 or size & (size - 1):
            raise InputError(f"precision {text!r}: the block size must be a power of two >= 16")
        return cls(int(name[3:]), size)


def make_recipe(quant: str, overrides: str = "", kind: str = "asr") -> dict[str, Precision]:
    """The preset `quant` with `part=precision` overrides (comma-separated) applied; `prefill` only if given,
    and for an aligner (`kind`) it becomes the decoder's precision: the aligner's one pass is a prefill."""
    if quant not in PRESETS:
        raise InputError(f"--quant {quant}: choose one of {', '.join(PRESETS)}")
    recipe: dict[str, Precision] = {}
    for item in filter(None, (PRESETS[quant] + "," + overrides).split(",")):
        part, sep, value = item.partition("=")
        if not sep or part.strip() not in PARTS + (PREFILL,):
            raise InputError(f"recipe item {item!r}: expected PART=PRECISION with PART one of "
                             f"{', '.join(PARTS + (PREFILL,))}")
        recipe[part.strip()] = Precision.parse(value)
    if recipe["embed"].dynamic:
        raise InputError("embed=w8a8: the table is looked up on the host; use int8:BLOCK or fp32")
    if recipe["embed"].bits == 4:
        raise InputError("embed=int4: the table is also the output head, which stays at 8 bits or more "
                         "(int4 heads flip near-tied tokens)")
    if kind == "aligner" and PREFILL in recipe:
        recipe["decoder"] = recipe.pop(PREFILL)
    return recipe
