"""Turning a raw generation into (language, text), as the official `parse_asr_output` does.

Raw output looks like `language English<asr_text>transcript`, or `language None<asr_text>` for silence.
Before parsing, repetitions are collapsed (official `detect_and_fix_repetitions`, threshold 20): a run of
one character longer than 20 becomes one character; then, scanning left to right, the first pattern of
1..20 characters repeated back to back at least 20 times becomes one copy, and the rest is scanned again.
"""
from __future__ import annotations

ASR_TEXT_TAG = "<asr_text>"
REPEAT_THRESHOLD = 20
MAX_PATTERN = 20


def _collapse_char_runs(text: str, threshold: int) -> str:
    out, i = [], 0
    while i < len(text):
        j = i
        while j < len(text) and text[j] == text[i]:
            j += 1
        out.append(text[i] if j - i > threshold else text[i:j])
        i = j
    return "".join(out)


def _pattern_repeats_at(text: str, i: int, k: int, threshold: int) -> bool:
    pattern = text[i:i + k]
    return all(text[i + r * k:i + (r + 1) * k] == pattern for r in range(1, threshold))


def _collapse_patterns(text: str, threshold: int) -> str:
    out: list[str] = []
    while len(text) >= 2 * threshold:
        for i in range(len(text) - 2 * threshold + 1):
            k = next((k for k in range(1, MAX_PATTERN + 1)
                      if i + k * threshold <= len(text) and _pattern_repeats_at(text, i, k, threshold)), None)
            if k is not None:
                end = i + threshold * k
                while text[end:end + k] == text[i:i + k]:
                    end += k
                out.append(text[:i + k])
                text = text[end:]
                break
        else:
            break
    return "".join(out) + text


def fix_repetitions(text: str, threshold: int = REPEAT_THRESHOLD) -> str:
    return _collapse_patterns(_collapse_char_runs(text, threshold), threshold)


def parse_asr_output(raw: str, forced_language: str | None = None) -> tuple[str, str]:
    """(language, text). A forced language means the whole output is text; no tag means no language."""
    s = (raw or "").strip()
    if not s:
        return "", ""
    s = fix_repetitions(s)
    if forced_language:
        return forced_language, s
    if ASR_TEXT_TAG not in s:
        return "", s.strip()
    header, text = s.split(ASR_TEXT_TAG, 1)
    if "language none" in header.lower():
        return "", text.strip()
    for line in header.splitlines():
        line = line.strip()
        if line.lower().startswith("language "):
            value = line[len("language "):].strip()
            return (value[:1].upper() + value[1:].lower() if value else ""), text.strip()
    return "", text.strip()


def merge_languages(languages: list[str]) -> str:
    """Comma list of the window languages, empty ones and consecutive duplicates dropped (official rule)."""
    merged: list[str] = []
    for lang in languages:
        if lang and (not merged or merged[-1] != lang):
            merged.append(lang)
    return ",".join(merged)
