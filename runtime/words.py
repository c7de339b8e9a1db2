"""Words of a transcript as the official forced aligner splits them (qwen_asr Qwen3ForceAlignProcessor).

A word keeps only letters, digits and apostrophes (Unicode categories L*, N* and "'"). Space-delimited
languages and Chinese/Cantonese: split on whitespace, clean each piece, then every CJK ideograph is a word
of its own while other runs stay whole. Japanese: nagisa's words when nagisa is installed (as the
official code), else each Han/kana character alone, the rest as above. Korean: the official code uses
soynlp's LTokenizer with the scores of a dictionary shipped in qwen-asr; without it, whitespace words.
"""
from __future__ import annotations

import unicodedata

CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F),
              (0x2B820, 0x2CEAF), (0xF900, 0xFAFF))
KANA_RANGES = ((0x3040, 0x309F), (0x30A0, 0x30FF))


def _in(ranges: tuple[tuple[int, int], ...], ch: str) -> bool:
    code = ord(ch)
    return any(low <= code <= high for low, high in ranges)


def clean(token: str) -> str:
    return "".join(ch for ch in token if ch == "'" or unicodedata.category(ch)[0] in "LN")


def _split_runs(text: str, single) -> list[str]:
    """Characters for which `single(ch)` holds stand alone; the runs between them stay whole."""
    words, run = [], []
    for ch in text:
        if single(ch):
            if run:
                words.append("".join(run))
                run = []
            words.append(ch)
        else:
            run.append(ch)
    if run:
        words.append("".join(run))
    return words


def split_words(text: str, language: str) -> list[str]:
    """The aligner's words of `text` (`language` as an official name, any case)."""
    language = language.lower()
    if language == "japanese":
        try:
            import nagisa
        except ImportError:
            return [w for piece in text.split() for w in _split_runs(clean(piece), lambda ch: _in(CJK_RANGES + KANA_RANGES, ch)) if w]
        return [w for w in (clean(word) for word in nagisa.tagging(text).words) if w]
    return [w for piece in text.split() for w in _split_runs(clean(piece), lambda ch: _in(CJK_RANGES, ch)) if w]
