"""`Transcriber`: the offline speech-to-text pipeline over an exported model directory.

audio -> mono 16 kHz -> windows of at most `max_window_seconds` (cut at quiet points) -> log-mel ->
encoder -> audio embeddings scattered into the prompt's <|audio_pad|> positions -> greedy decoding ->
`language X<asr_text>text` parsed. Window texts are joined with "" and languages merged, as the official
wrapper does.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from .audio import AudioInput, AudioStream
from .aligner import MAX_ALIGN_SECONDS, Aligner, Word
from .beam import beam_search
from .decoder import Decoder
from .decoding import Generation, greedy_decode
from .embedding import EmbeddingTable
from .encoder import AudioEncoder, StaticAudioEncoder
from .errors import InputError
from .features import SAMPLE_RATE, log_mel_spectrogram
from .loading import load_parts
from .model_dir import DECODER, DECODER_PREFILL, ENCODER_CONV, ENCODER_TRANSFORMER, ModelDir, open_model_dir
from .postprocess import merge_languages, parse_asr_output
from .prompt import SUPPORTED_LANGUAGES, normalize_language
from .sessions import usable_provider
from .static_decoder import StaticDecoder
from .streaming import ChunkResult, Stream, StreamOptions
from .vad import make_detector
from .words import split_words

OFFICIAL_MAX_WINDOW_SECONDS = 1200.0  # the official wrapper's window; a 15k-token prompt
DEFAULT_MAX_WINDOW_SECONDS = 30.0  # bounded prompt and KV cache on small devices
MAX_CONTEXT_TOKENS = 2048


def default_max_new_tokens(seconds: float) -> int:
    """Generation guard: 16 tokens for the header plus 16 tokens per second of audio (about 3x fast speech)."""
    return 16 + math.ceil(16 * seconds)


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    language: str
    raw: str
    tokens: tuple[int, ...]
    words: tuple[Word, ...] = ()  # with an aligner: times in seconds from the start of the input


@dataclass(frozen=True)
class Transcription:
    text: str
    language: str
    duration: float
    segments: tuple[Segment, ...]
    timestamps: bool = False  # whether words were aligned

    @property
    def words(self) -> tuple[Word, ...]:
        return tuple(w for s in self.segments for w in s.words)

    @property
    def raw(self) -> str:
        return "".join(s.raw for s in self.segments)

    @property
    def tokens(self) -> tuple[int, ...]:
        return tuple(t for s in self.segments for t in s.tokens)

    @classmethod
    def from_segments(cls, segments: Sequence[Segment], duration: float, timestamps: bool = False) -> Transcription:
        """Texts joined with no separator and languages merged, as the official wrapper joins its windows."""
        return cls(text="".join(s.text for s in segments), language=merge_languages([s.language for s in segments]),
                   duration=duration, segments=tuple(segments), timestamps=timestamps)


class Transcriber:
    """Load once, transcribe many: `Transcriber(model_dir).transcribe("talk.wav")`."""

    def __init__(self, model_dir: str | os.PathLike, threads: int = 0, provider: str = "cpu",
                 max_new_tokens: int | None = None, max_window_seconds: float = DEFAULT_MAX_WINDOW_SECONDS,
                 beam: int = 1, length_penalty: float = 1.0, vad: str | None = None, aligner: Aligner | None = None,
                 ort_format: bool = False):
        if beam < 1:
            raise InputError(f"beam width {beam}: must be at least 1")
        self.model_dir: ModelDir = open_model_dir(model_dir, expected_kind="asr")
        m, static = self.model_dir.model, self.model_dir.static
        self.provider = usable_provider(provider, static is not None)
        graphs = (ENCODER_CONV, ENCODER_TRANSFORMER, DECODER)
        graphs += (DECODER_PREFILL,) if DECODER_PREFILL in self.model_dir.manifest["graphs"] else ()
        sessions, self.tokenizer = load_parts(self.model_dir, graphs, threads, self.provider, ort_format)
        table = EmbeddingTable.load(self.model_dir.path, self.model_dir.manifest["embed_tokens"])
        layout = (m["num_layers"], m["num_kv_heads"], m["head_dim"])
        if static is None:
            self.encoder = AudioEncoder(sessions[ENCODER_CONV], sessions[ENCODER_TRANSFORMER], m["window_chunks"])
            self.decoder = Decoder(sessions[DECODER], table, *layout, prefill_session=sessions.get(DECODER_PREFILL))
        else:
            self.encoder = StaticAudioEncoder(sessions[ENCODER_CONV], sessions[ENCODER_TRANSFORMER], m["window_chunks"],
                                              static["mask_bias"])
            self.decoder = StaticDecoder(sessions[DECODER], sessions[DECODER_PREFILL], table, *layout, static)
        self.eos_ids = tuple(m["eos_token_ids"])
        self.languages = tuple(m.get("support_languages") or SUPPORTED_LANGUAGES)
        self.max_new_tokens = max_new_tokens
        # with word timestamps a window (plus the 5 s cut search) must fit the aligner's 180 s
        self.max_window_seconds = min(max_window_seconds, MAX_ALIGN_SECONDS - 5.0) if aligner else max_window_seconds
        self.aligner = aligner
        self.beam, self.length_penalty = beam, length_penalty
        self.detector = make_detector(vad) if vad else None  # None: windows tile the input (no VAD)

    def generate(self, audio: np.ndarray, context: str = "", language: str | None = None,
                 keep_logits: bool = False) -> Generation:
        """Decode one window of 16 kHz audio; `language` must already be canonical (or None).

        Greedy when beam == 1 (per-step logits kept if asked), beam search otherwise (no logits kept)."""
        _, prompt = self.prompt_embeds(self.encoder(log_mel_spectrogram(audio)), context, language)
        limit = self.max_new_tokens or default_max_new_tokens(len(audio) / SAMPLE_RATE)
        if self.beam == 1:
            return greedy_decode(self.decoder, prompt, self.eos_ids, limit, keep_logits)
        return beam_search(self.decoder, prompt, self.eos_ids, limit, self.beam, self.length_penalty)

    def prompt_embeds(self, embeds: np.ndarray, context: str = "", language: str | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
        """The official prompt around audio embeddings [N, H]: token ids [S] and input embeddings [S, H]
        (the token table's rows, with the audio embeddings in the <|audio_pad|> slots)."""
        ids = self.tokenizer.prompt_ids(len(embeds), context, language)
        prompt = self.decoder.embed(ids)
        prompt[ids == self.tokenizer.audio_token_id] = embeds
        return ids, prompt

    def check_request(self, context: str, language: str | None) -> str | None:
        """The canonical forced language (or None); InputError for an unknown language or a too long context."""
        forced = normalize_language(language, self.languages)
        if len(self.tokenizer.encode(context or "")) > MAX_CONTEXT_TOKENS:
            raise InputError(f"context is longer than {MAX_CONTEXT_TOKENS} tokens")
        return forced

    def _segments(self, stream: AudioStream, context: str, forced: str | None) -> Iterator[Segment]:
        for window in stream:
            generation = self.generate(window.audio, context, forced)
            raw = self.tokenizer.decode(generation.tokens)
            lang, text = parse_asr_output(raw, forced)
            words: tuple[Word, ...] = ()
            if self.aligner is not None and text:
                audio = window.audio[:int(round(window.seconds * SAMPLE_RATE))]
                words = tuple(Word(w.text, round(w.start + window.offset, 3), round(w.end + window.offset, 3))
                              for w in self.aligner.align_window(audio, split_words(text, lang or "English")))
            yield Segment(window.offset, window.offset + window.seconds, text, lang, raw, generation.tokens, words)

    def _stream(self, audio: AudioInput, sample_rate: int | None) -> AudioStream:
        return AudioStream(audio, self.max_window_seconds, sample_rate, self.detector)

    def transcribe_iter(self, audio: AudioInput, context: str = "", language: str | None = None,
                        sample_rate: int | None = None) -> Iterator[Segment]:
        """Yield one Segment per audio window as it is decoded (files are read block by block)."""
        forced = self.check_request(context, language)
        yield from self._segments(self._stream(audio, sample_rate), context, forced)

    def transcribe(self, audio: AudioInput, context: str = "", language: str | None = None,
                   sample_rate: int | None = None,
                   on_segment: Callable[[Segment], None] | None = None) -> Transcription:
        """The whole result for one input (a path, encoded bytes, or a numpy array with its sample_rate);
        `on_segment` is called after each window (progress)."""
        forced = self.check_request(context, language)
        stream = self._stream(audio, sample_rate)
        segments = []
        for segment in self._segments(stream, context, forced):
            segments.append(segment)
            if on_segment is not None:
                on_segment(segment)
        return Transcription.from_segments(segments, stream.seconds, timestamps=self.aligner is not None)


    def stream(self, context: str = "", language: str | None = None, sample_rate: int = SAMPLE_RATE,
               options: StreamOptions = StreamOptions(), on_chunk: Callable[[ChunkResult], None] | None = None) -> Stream:
        """A live transcription: `feed(pcm)` pieces of any size, then `finish()` (see `streaming.Stream`)."""
        return Stream(self, context, language, sample_rate, options, on_chunk)


def bundled_model_dir(kind: str = "asr") -> Path | None:
    """The demo model of `kind` (asr | aligner) shipped inside the package, if this installation has one."""
    path = Path(__file__).parent / "models" / kind
    return path if (path / "manifest.json").is_file() else None
