"""Streaming transcription: the official chunk policy, reached at a bounded cost per chunk.

The official `streaming_transcribe` (vLLM only) does, for every `chunk_seconds` of audio: re-encode all
audio so far, prompt = the ASR prompt + a text prefix, greedy-decode at most `max_new_tokens`, and keep
raw = prefix + generated text. The prefix is empty for the first `unfixed_chunks` chunks, afterwards the
previous raw text re-tokenized minus its last `unfixed_tokens` tokens (one more while the decoded prefix
holds a split multi-byte character, U+FFFD). `finish()` decodes the remaining audio (< one chunk) the
same way, keeping at least one token of the prefix and without the U+FFFD guard.

`Stream` gives the same prompts and tokens, but per chunk it computes only what changed: the audio side
in `StreamingEncoder` (exact, the clamp included), and on the decoder side the K/V of every prompt token
before the first audio token that can still change is kept (`_stable`); only the tail (open-window audio,
<|audio_end|>, the assistant header, the text prefix) is prefilled again, and decoding continues from
there without copying the kept K/V.

Segmentation (on by default): the energy VAD marks pauses of `segment_pause` seconds; once a segment has
lasted `min_segment_seconds`, it ends in the middle of the next pause: the audio up to there is decoded as
its closing flush (the finish rule), its text is committed, and a new segment with fresh state starts there
(a segment reaching `max_segment_seconds` is closed at a chunk boundary). The prompt and the K/V then stay
bounded on endless streams. Off (`segment_pause=None`), the stream is one segment: the official algorithm.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np
import soxr

from .audio import MIN_SAMPLES, to_mono
from .decoder import KVCache
from .decoding import greedy_continue
from .errors import AudioError, InputError
from .features import SAMPLE_RATE
from .postprocess import merge_languages, parse_asr_output
from .prompt import prompt_text
from .streaming_encoder import StreamingEncoder
from .vad import FRAME, EnergyVad

if TYPE_CHECKING:
    from .prompt import PromptTokenizer
    from .transcriber import Transcriber

REPLACEMENT_CHARACTER = "\ufffd"


@dataclass(frozen=True)
class StreamOptions:
    """The official defaults (qwen-asr `init_streaming_state`), plus segmentation."""
    chunk_seconds: float = 2.0
    unfixed_chunks: int = 2
    unfixed_tokens: int = 5
    max_new_tokens: int = 32  # per chunk, as the official streaming demo
    segment_pause: float | None = 0.5  # seconds of non-speech that end a segment; None: one segment, no limit
    min_segment_seconds: float = 4.0
    max_segment_seconds: float = 30.0


@dataclass(frozen=True)
class StreamUpdate:
    """The transcript after a chunk: `fixed_text` will not change any more (committed segments and the
    current segment's kept prefix), `partial_text` may."""
    fixed_text: str
    partial_text: str
    language: str
    chunks: int  # chunks decoded so far, over all segments
    final: bool = False  # after finish()

    @property
    def text(self) -> str:
        return self.fixed_text + self.partial_text


@dataclass(frozen=True)
class ChunkResult:
    """What one decode did (diagnostics, benchmarks, tests)."""
    segment: int
    index: int  # chunk index within the segment
    final: bool  # the finish() flush
    prefix: str
    tokens: tuple[int, ...]
    raw: str  # prefix + generated text
    audio_tokens: int
    prefilled: int  # prompt positions computed for this chunk (the rest came from the cache)
    seconds: float  # compute time of this chunk


def rollback_prefix(tokenizer: PromptTokenizer, raw: str, unfixed_tokens: int, guard: bool) -> str:
    """The official text prefix: `raw` re-tokenized minus its last `unfixed_tokens` tokens.

    guard (per chunk): empty when nothing is left, and one token more while the text ends in a split
    multi-byte character; finish (guard=False): at least one token is kept, no U+FFFD check."""
    ids = tokenizer.encode(raw)
    if not guard:
        return tokenizer.decode(ids[:max(1, len(ids) - unfixed_tokens)], skip_special_tokens=False)
    k = unfixed_tokens
    while True:
        end = max(0, len(ids) - k)
        prefix = tokenizer.decode(ids[:end], skip_special_tokens=False) if end else ""
        if REPLACEMENT_CHARACTER not in prefix or end == 0:
            return prefix if REPLACEMENT_CHARACTER not in prefix else ""
        k += 1


class _Segment:
    """One segment's state: audio side, kept K/V, official text state."""

    def __init__(self, transcriber: Transcriber, base_text: str):
        self.encoder = StreamingEncoder(transcriber.encoder)
        self.stable = transcriber.decoder.empty_cache()  # K/V of prompt positions [0, stable.length)
        self.kv_audio = 0  # audio tokens inside `stable`
        self.chunks = 0
        self.raw = ""
        self.base_text = base_text  # prompt_raw: the ASR prompt up to the assistant header (+ forced language)


class Stream:
    """`Transcriber.stream(...)`: feed audio in pieces, read the transcript after each chunk."""

    def __init__(self, transcriber: Transcriber, context: str = "", language: str | None = None, sample_rate: int = SAMPLE_RATE,
                 options: StreamOptions = StreamOptions(), on_chunk: Callable[[ChunkResult], None] | None = None,
                 stop_at_eos: bool = True):
        if options.chunk_seconds < 0.1:
            raise InputError(f"chunk of {options.chunk_seconds} s: must be at least 0.1 s")
        if sample_rate <= 0:
            raise AudioError(f"invalid sample rate {sample_rate}")
        self.asr = transcriber
        self.forced = transcriber.check_request(context, language)
        self.prompt_raw = prompt_text(context, self.forced)
        self.options = options
        self.on_chunk = on_chunk
        self.eos_ids = transcriber.eos_ids if stop_at_eos else ()  # () forces max_new_tokens per chunk (benchmarks)
        self.chunk_samples = max(1, int(round(options.chunk_seconds * SAMPLE_RATE)))
        self.resampler = None if sample_rate == SAMPLE_RATE else soxr.ResampleStream(sample_rate, SAMPLE_RATE, 1,
                                                                                     dtype="float32", quality="HQ")
        self.buffer = np.zeros(0, dtype=np.float32)
        self.committed: list[tuple[str, str]] = []  # (language, text) of finished segments
        self.segment = _Segment(transcriber, self.prompt_raw)
        self.segment_index = 0
        self.segment_start = 0  # stream sample index where the current segment begins
        self.buffer_start = 0  # stream sample index of buffer[0]
        self.vad = EnergyVad()
        self.vad_pending = np.zeros(0, dtype=np.float32)
        self.vad_position = 0  # stream sample index of vad_pending[0]
        self.silence_start: int | None = None  # where the current run of non-speech frames began
        self.cuts: list[int] = []  # pause midpoints (stream sample indices) not yet used
        self.total_chunks = 0
        self.finished = False
        self._last = StreamUpdate("", "", "", 0)

    # -- input -------------------------------------------------------------------------------------------

    def feed(self, pcm: np.ndarray) -> StreamUpdate:
        """Append audio (float in [-1, 1] or int16; mono [n] or [n, channels]; at the stream's sample rate)
        and decode every chunk it completes; returns the transcript after the last one."""
        if self.finished:
            raise InputError("feed() after finish()")
        pcm = np.asarray(pcm)
        samples = to_mono(pcm.astype(np.float32) / 32768.0 if pcm.dtype == np.int16 else pcm)
        if not np.all(np.isfinite(samples)):
            raise AudioError("audio contains NaN or Inf samples")
        if self.resampler is not None:
            samples = self.resampler.resample_chunk(samples)
        self._find_pauses(samples)
        self.buffer = np.concatenate([self.buffer, samples])
        while len(self.buffer) >= self.chunk_samples:
            cut = self._next_cut()
            if cut is not None:  # the segment ends in a pause inside this chunk: flush up to it, start afresh
                self._take(cut - self.buffer_start, final=True)
                self._commit()
                continue
            self._take(self.chunk_samples, final=False)
            if self._segment_too_long():
                self._commit()
        return self._last

    def _take(self, samples: int, final: bool) -> None:
        """Decode the first `samples` of the buffer as the segment's next chunk (final: its closing flush)."""
        part, self.buffer = self.buffer[:samples], self.buffer[samples:]
        self.buffer_start += samples
        if len(part) and (self.segment.chunks or len(part) >= MIN_SAMPLES):
            self._decode(part, final)

    def finish(self) -> StreamUpdate:
        """Decode the remaining audio (shorter than a chunk) and close the stream; the last update."""
        if not self.finished:
            if self.resampler is not None:
                self.buffer = np.concatenate([self.buffer, self.resampler.resample_chunk(np.zeros(0, np.float32), last=True)])
            self._take(len(self.buffer), final=True)
            self.finished = True
            self._commit()
        return self._last

    # -- decoding ----------------------------------------------------------------------------------------

    def _prefix(self, final: bool) -> str:
        segment, o = self.segment, self.options
        if segment.chunks < o.unfixed_chunks:
            return ""
        return rollback_prefix(self.asr.tokenizer, segment.raw, o.unfixed_tokens, guard=not final)

    def _decode(self, audio: np.ndarray, final: bool) -> None:
        started = time.perf_counter()
        segment = self.segment
        prefix = self._prefix(final)
        tokens, audio_tokens, prefilled = self._generate(audio, prefix)
        segment.raw = prefix + self.asr.tokenizer.decode(tokens)
        result = ChunkResult(self.segment_index, segment.chunks, final, prefix, tokens, segment.raw, audio_tokens,
                             prefilled, time.perf_counter() - started)
        segment.chunks += 1
        self.total_chunks += 1
        self._last = self._update()
        if self.on_chunk is not None:
            self.on_chunk(result)

    def _generate(self, audio: np.ndarray, prefix: str) -> tuple[tuple[int, ...], int, int]:
        """Append `audio` to the segment and decode after base prompt + `prefix`: (generated ids, audio
        tokens, prompt positions computed)."""
        segment, asr = self.segment, self.asr
        first_changed = segment.encoder.extend(audio)
        ids = asr.tokenizer.ids_with_audio(segment.base_text + prefix, segment.encoder.n_tokens)
        audio_at = int(np.argmax(ids == asr.tokenizer.audio_token_id))
        # Drop kept K/V from the first changed audio token on (only a clamp change reaches back that far).
        if segment.kv_audio > first_changed:
            segment.kv_audio = first_changed
            segment.stable = _truncated(segment.stable, audio_at + first_changed)
        start = segment.stable.length
        tail_ids = ids[start:]
        embeds = asr.decoder.embed(tail_ids)
        embeds[tail_ids == asr.tokenizer.audio_token_id] = segment.encoder.embeddings(max(0, start - audio_at))
        logits, present = asr.decoder.run(embeds[None], np.arange(start, len(ids))[None], segment.stable,
                                          asr.decoder.empty_cache())
        generation = greedy_continue(asr.decoder, logits, segment.stable, present, len(ids), self.eos_ids,
                                     self.options.max_new_tokens)
        # The prompt head and the audio tokens of final windows are final: keep their K/V (computed just now).
        keep = audio_at + segment.encoder.final_tokens - start
        if keep > 0:
            segment.stable = _joined(segment.stable, _truncated(present, keep))
            segment.kv_audio = segment.encoder.final_tokens
        return generation.tokens, segment.encoder.n_tokens, len(tail_ids)

    # -- segments and results ------------------------------------------------------------------------------

    def _find_pauses(self, audio: np.ndarray) -> None:
        """Energy VAD over 32 ms frames; each run of `segment_pause` seconds of non-speech adds its midpoint
        to `cuts`."""
        if self.options.segment_pause is None:
            return
        pending = np.concatenate([self.vad_pending, audio])
        n = len(pending) // FRAME
        pause = int(self.options.segment_pause * SAMPLE_RATE)
        for i, speech in enumerate(self.vad.probabilities(pending[:n * FRAME].reshape(n, FRAME)) if n else ()):
            end = self.vad_position + (i + 1) * FRAME
            if speech >= 0.5:
                self.silence_start = None
                continue
            if self.silence_start is None:
                self.silence_start = end - FRAME
            if end - self.silence_start >= pause > end - FRAME - self.silence_start:
                self.cuts.append(self.silence_start + pause // 2)
        self.vad_pending = pending[n * FRAME:]
        self.vad_position += n * FRAME

    def _segment_too_long(self) -> bool:
        o = self.options
        return o.segment_pause is not None and self.buffer_start - self.segment_start >= o.max_segment_seconds * SAMPLE_RATE

    def _next_cut(self) -> int | None:
        """A pause midpoint inside the next chunk, once the segment is long enough."""
        earliest = self.segment_start + int(self.options.min_segment_seconds * SAMPLE_RATE)
        self.cuts = [c for c in self.cuts if c > max(earliest, self.buffer_start - 1)]
        if self.cuts and self.cuts[0] <= self.buffer_start + self.chunk_samples:
            return self.cuts.pop(0)
        return None

    def _commit(self) -> None:
        """Close the current segment: its parsed text becomes fixed; the next segment starts afresh."""
        if self.segment.chunks:
            self.committed.append(parse_asr_output(self.segment.raw, self.forced))
        self.segment = _Segment(self.asr, self.prompt_raw)
        self.segment_index += 1
        self.segment_start = self.buffer_start
        self._last = self._update(final=self.finished)

    def _update(self, final: bool = False) -> StreamUpdate:
        fixed = "".join(text for _, text in self.committed)
        languages = [lang for lang, _ in self.committed]
        partial = ""
        if self.segment.chunks:
            language, text = parse_asr_output(self.segment.raw, self.forced)
            languages.append(language)
            kept_prefix = self._prefix(final=False)
            _, kept = parse_asr_output(kept_prefix, self.forced) if kept_prefix else ("", "")
            shared = _common_prefix_length(text, kept)
            fixed, partial = fixed + text[:shared], text[shared:]
        return StreamUpdate(fixed, partial, merge_languages(languages), self.total_chunks, final)


def _truncated(cache: KVCache, length: int) -> KVCache:
    return KVCache(tuple(k[:, :, :length] for k in cache.keys), tuple(v[:, :, :length] for v in cache.values))


def _joined(first: KVCache, second: KVCache) -> KVCache:
    return KVCache(tuple(np.concatenate([a, b], axis=2) for a, b in zip(first.keys, second.keys)),
                   tuple(np.concatenate([a, b], axis=2) for a, b in zip(first.values, second.values)))


def _common_prefix_length(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n
