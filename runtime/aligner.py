"""Forced alignment with an exported Qwen3-ForcedAligner: word start/end times for a known transcript.

The prompt is `<|audio_start|>` + audio + `<|audio_end|>` followed by every word and two `<timestamp>`
slots after it (words joined without spaces); one decoder pass gives each slot a class, class x 80 ms is
the time, and `repair_timestamps` makes the 2n times non-decreasing as the official code does.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .audio import AudioInput, load_audio
from .embedding import EmbeddingTable
from .encoder import AudioEncoder
from .errors import InputError
from .features import SAMPLE_RATE, log_mel_spectrogram
from .loading import load_parts
from .model_dir import DECODER, ENCODER_CONV, ENCODER_TRANSFORMER, ModelDir, open_model_dir
from .prompt import SUPPORTED_LANGUAGES, normalize_language
from .sessions import usable_provider
from .words import split_words

TIMESTAMP = "<timestamp>"
MAX_ALIGN_SECONDS = 180.0  # the official wrapper aligns at most this much audio at once


@dataclass(frozen=True)
class Word:
    text: str
    start: float  # seconds
    end: float


def repair_timestamps(values: list[float]) -> list[int]:
    """The official `fix_timestamp`: values on a longest non-decreasing subsequence (first found, earliest
    predecessors) stay; a run of at most 2 others takes its nearer kept neighbour's value (the left one on a
    tie), a longer run is interpolated linearly between its kept neighbours (or copies the one that exists);
    then truncated to int."""
    n = len(values)
    if n == 0:
        return []
    length, parent = [1] * n, [-1] * n
    for i in range(1, n):
        for j in range(i):
            if values[j] <= values[i] and length[j] + 1 > length[i]:
                length[i], parent[i] = length[j] + 1, j
    kept = [False] * n
    i = length.index(max(length))
    while i != -1:
        kept[i], i = True, parent[i]
    result = list(values)
    i = 0
    while i < n:
        if kept[i]:
            i += 1
            continue
        j = i
        while j < n and not kept[j]:
            j += 1
        left = next((result[k] for k in range(i - 1, -1, -1) if kept[k]), None)
        right = next((result[k] for k in range(j, n) if kept[k]), None)
        for k in range(i, j):
            if left is None or right is None:
                result[k] = right if left is None else left
            elif j - i <= 2:
                result[k] = left if k - (i - 1) <= j - k else right
            else:
                result[k] = left + (right - left) / (j - i + 1) * (k - i + 1)
        i = j
    return [int(v) for v in result]


class Aligner:
    """Load once, align many: `Aligner(model_dir).align("talk.wav", "the transcript", "English")`."""

    def __init__(self, model_dir: str | os.PathLike, threads: int = 0, provider: str = "cpu", ort_format: bool = False):
        self.model_dir: ModelDir = open_model_dir(model_dir, expected_kind="aligner")
        m = self.model_dir.model
        provider = usable_provider(provider, static_graphs=False)  # the aligner has no static export yet
        sessions, self.tokenizer = load_parts(self.model_dir, (ENCODER_CONV, ENCODER_TRANSFORMER, DECODER), threads,
                                              provider, ort_format)
        self.encoder = AudioEncoder(sessions[ENCODER_CONV], sessions[ENCODER_TRANSFORMER], m["window_chunks"])
        self.embed = EmbeddingTable.load(self.model_dir.path, self.model_dir.manifest["embed_tokens"])
        self.session = sessions[DECODER]
        self.timestamp_id = m["timestamp_token_id"]
        self.segment_ms = float(m["timestamp_segment_time"])
        self.languages = tuple(m.get("support_languages") or ())

    def prompt_ids(self, n_audio_tokens: int, words: list[str]) -> np.ndarray:
        """<|audio_start|>, the audio tokens, <|audio_end|>, then every word followed by two <timestamp> slots."""
        text = "<|audio_start|><|audio_pad|><|audio_end|>" + "".join(w + TIMESTAMP * 2 for w in words)
        return self.tokenizer.ids_with_audio(text, n_audio_tokens)

    def align_window(self, audio: np.ndarray, words: list[str]) -> list[Word]:
        """Times of `words` in one window of 16 kHz audio (at most MAX_ALIGN_SECONDS)."""
        if not words:
            return []
        embeds = self.encoder(log_mel_spectrogram(audio))
        ids = self.prompt_ids(len(embeds), words)
        prompt = self.embed(ids)
        prompt[ids == self.tokenizer.audio_token_id] = embeds
        slots = np.flatnonzero(ids == self.timestamp_id)
        if len(slots) != 2 * len(words):
            raise InputError("the text must not contain the <timestamp> token")
        logits = self.session.run(None, {"inputs_embeds": prompt[None], "position_ids": np.arange(len(ids))[None],
                                         "slots": slots[None]})[0][0]
        times = repair_timestamps([float(c) * self.segment_ms for c in logits.argmax(axis=-1)])
        return [Word(w, round(times[2 * i] / 1000.0, 3), round(times[2 * i + 1] / 1000.0, 3))
                for i, w in enumerate(words)]

    def align(self, audio: AudioInput, text: str, language: str, sample_rate: int | None = None) -> tuple[Word, ...]:
        """Word times of `text` in `audio` (a path, bytes, or an array with its sample_rate); `language`
        picks the word splitting (official names or ISO codes)."""
        language = normalize_language(language, self.languages or SUPPORTED_LANGUAGES)
        if language is None:
            raise InputError("the aligner needs the language of the text")
        samples = load_audio(audio, sample_rate)
        if len(samples) > MAX_ALIGN_SECONDS * SAMPLE_RATE:
            raise InputError(f"audio is {len(samples) / SAMPLE_RATE:.0f} s long; the aligner takes at most "
                             f"{MAX_ALIGN_SECONDS:.0f} s at once (use `transcribe --timestamps`, which aligns window by window)")
        return tuple(self.align_window(samples, split_words(text, language)))
