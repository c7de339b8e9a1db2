"""Tokenizer and the official Qwen3-ASR prompt.

Prompt (the chat template with add_generation_prompt=True; the system turn is always present):
  <|im_start|>system\\n{context}<|im_end|>\\n<|im_start|>user\\n<|audio_start|><|audio_pad|>*N<|audio_end|><|im_end|>\\n
  <|im_start|>assistant\\n[language {Name}<asr_text>]
The whole string is encoded at once (as the official processor does), so context text is split by the
same pre-tokenizer in the same surroundings; the single <|audio_pad|> is then expanded to N copies.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from .errors import InputError

AUDIO_PAD = "<|audio_pad|>"
SUPPORTED_LANGUAGES = (
    "Chinese", "English", "Cantonese", "Arabic", "German", "French", "Spanish", "Portuguese", "Indonesian",
    "Italian", "Korean", "Russian", "Thai", "Vietnamese", "Japanese", "Turkish", "Hindi", "Malay", "Dutch",
    "Swedish", "Danish", "Finnish", "Polish", "Czech", "Filipino", "Persian", "Greek", "Romanian", "Hungarian",
    "Macedonian",
)


# ISO 639 codes (639-1 where there is one, else 639-3; 'tl' too for Filipino) of the official language names.
LANGUAGE_CODES = {
    "zh": "Chinese", "en": "English", "yue": "Cantonese", "ar": "Arabic", "de": "German", "fr": "French",
    "es": "Spanish", "pt": "Portuguese", "id": "Indonesian", "it": "Italian", "ko": "Korean", "ru": "Russian",
    "th": "Thai", "vi": "Vietnamese", "ja": "Japanese", "tr": "Turkish", "hi": "Hindi", "ms": "Malay", "nl": "Dutch",
    "sv": "Swedish", "da": "Danish", "fi": "Finnish", "pl": "Polish", "cs": "Czech", "fil": "Filipino",
    "tl": "Filipino", "fa": "Persian", "el": "Greek", "ro": "Romanian", "hu": "Hungarian", "mk": "Macedonian",
}


def language_codes(name: str) -> list[str]:
    return [code for code, language in LANGUAGE_CODES.items() if language == name]


def normalize_language(name: str | None, supported: tuple[str, ...] = SUPPORTED_LANGUAGES) -> str | None:
    """'cHINese' or 'zh' -> 'Chinese'; None or blank -> None (auto-detect); unknown names raise InputError."""
    if name is None or not str(name).strip():
        return None
    text = str(name).strip()
    canonical = LANGUAGE_CODES.get(text.lower()) or text[:1].upper() + text[1:].lower()
    if canonical not in supported:
        raise InputError(f"unknown language {name!r}; use a name or code from `qwen-asr-edge info --languages` "
                         f"({', '.join(supported)})")
    return canonical


def prompt_text(context: str, language: str | None) -> str:
    text = (f"<|im_start|>system\n{context or ''}<|im_end|>\n<|im_start|>user\n"
            f"<|audio_start|>{AUDIO_PAD}<|audio_end|><|im_end|>\n<|im_start|>assistant\n")
    return text + f"language {language}<asr_text>" if language else text


class PromptTokenizer:
    """Encodes prompts and decodes generations with the model directory's tokenizer.json."""

    def __init__(self, tokenizer: Tokenizer, audio_token_id: int):
        self.tokenizer = tokenizer
        self.audio_token_id = audio_token_id

    @classmethod
    def from_file(cls, path: Path, audio_token_id: int) -> "PromptTokenizer":
        return cls(Tokenizer.from_file(str(path)), audio_token_id)

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        """Special tokens are skipped by default; <asr_text> is not special, so the header survives as in the
        official code."""
        return self.tokenizer.decode(list(ids), skip_special_tokens=skip_special_tokens)

    def prompt_ids(self, n_audio_tokens: int, context: str = "", language: str | None = None) -> np.ndarray:
        """The official ASR prompt (chat template) with the audio placeholder expanded."""
        return self.ids_with_audio(prompt_text(context, language), n_audio_tokens)

    def ids_with_audio(self, text: str, n_audio_tokens: int) -> np.ndarray:
        """Token ids of `text`, whose single <|audio_pad|> becomes n_audio_tokens of them."""
        ids = self.encode(text)
        if ids.count(self.audio_token_id) != 1:
            raise InputError("the text (context) must not contain the <|audio_pad|> token")
        at = ids.index(self.audio_token_id)
        return np.array(ids[:at] + [self.audio_token_id] * n_audio_tokens + ids[at + 1:], dtype=np.int64)
