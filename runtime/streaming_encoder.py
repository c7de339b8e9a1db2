"""Audio embeddings of a growing signal, equal to the offline encoder on all audio so far, at a bounded cost.

After each `extend(samples)`, `embeddings(start)` equals `AudioEncoder(log_mel_spectrogram(audio))[start:]`
for all audio received so far (the official streaming re-encodes exactly that every chunk), but only what
can have changed is recomputed:
  - log-mel: frame f covers samples [160 f - 200, 160 f + 200) and is final once they have all arrived;
    only new frames are computed, plus the 1-2 provisional tail frames that reflect-pad the current end
    (recomputed every time, as the offline path pads the end of the audio so far);
  - the max - 8 clamp is global: every frame is kept unclamped and the floor is (max over all frames, the
    provisional ones included) - 8, so it can move both ways. A cached 1 s chunk stays valid while none of
    its values lies below the old or the new floor (min(chunk) >= max(old, new)); otherwise it is recomputed
    with its window. Speech reaches its loudest bin early, so this is rare and the result stays exact;
  - conv stem: a 1 s chunk (100 frames) is final once all its frames are; the open tail (< 2 chunks) is
    recomputed, zero-padded to 100 frames as the offline path pads a tail chunk (unpadded only while the
    whole stream is under 1 s);
  - transformer: an 8 s window (8 chunks, 104 tokens) is final once its 8 chunks are; only the open window
    (and, for a moment at its end, the start of the next) runs again. `first_changed` tells the decoder from which token its cached K/V is stale.
Memory: the unclamped frames (51 KB per second of audio) and the cached tokens of the stream; samples only
as far back as the next frames need.
"""
from __future__ import annotations

import numpy as np

from .encoder import CHUNK_FRAMES, CHUNK_TOKENS, AudioEncoder, tokens_for_frames
from .features import HOP, N_FFT, N_MELS, log_mel_power

CLAMP_RANGE = 8.0
HALF = N_FFT // 2


def final_frames(samples: int) -> int:
    """Frames of `samples` samples whose values no longer depend on where the audio ends."""
    if samples <= HALF:  # frame 0 mirrors samples 1..200 on its left
        return 0
    return min(samples // HOP, (samples - HALF) // HOP + 1)


def normalize(raw: np.ndarray, floor: float) -> np.ndarray:
    """(max(x, floor) + 4) / 4 as float32, the offline normalisation with floor = max - 8."""
    return ((np.maximum(raw, floor) + 4.0) / 4.0).astype(np.float32)


class StreamingEncoder:
    def __init__(self, encoder: AudioEncoder):
        self.encoder = encoder
        self.window_chunks = encoder.window_tokens // CHUNK_TOKENS
        self.samples_seen = 0
        self._samples = np.zeros(0, dtype=np.float32)  # samples from index _sample_base on
        self._sample_base = 0
        self._raw = np.zeros((N_MELS, 0))  # unclamped final frames; grows by doubling
        self._n_final = 0
        self._final_max = -np.inf
        self._tail_raw = np.zeros((N_MELS, 0))  # provisional frames after the final ones
        self._chunk_tokens: list[np.ndarray] = []  # conv output [13, d] of each final chunk
        self._chunk_floor: list[float] = []  # the floor each cached chunk was computed with
        self._chunk_min: list[float] = []
        self._windows: list[np.ndarray] = []  # transformer output [104, out] of each final window
        self._open = np.zeros((0, 0), dtype=np.float32)  # transformer output of the open window
        self.n_tokens = 0
        self.floor = -np.inf

    @property
    def final_tokens(self) -> int:
        """Leading tokens in final windows: valid until a clamp change says otherwise (`first_changed`)."""
        return len(self._windows) * self.encoder.window_tokens

    def extend(self, samples: np.ndarray) -> int:
        """Append 16 kHz mono samples and bring the embeddings up to date; returns the index of the first
        token that may differ from the previous call's embeddings: the start of the open window then, or of
        an earlier window that a clamp change made recompute."""
        previous_final = self.final_tokens
        self._append_samples(np.asarray(samples, dtype=np.float32))
        frames = self.samples_seen // HOP
        if frames == 0:
            return 0
        all_max = max(self._final_max, float(self._tail_raw.max()) if self._tail_raw.size else -np.inf)
        self.floor = float(np.float64(all_max) - CLAMP_RANGE)
        first_changed = min(self._refresh_stale_chunks(), previous_final)
        self._add_final_chunks()
        self._add_final_windows()
        self._open = self._open_window(frames)
        self.n_tokens = self.final_tokens + len(self._open)
        return first_changed

    def embeddings(self, start: int = 0) -> np.ndarray:
        """Tokens [start, n_tokens) as [n, output_dim] (start >= 0)."""
        w = self.encoder.window_tokens
        parts = [self._windows[i][max(0, start - i * w):] for i in range(start // w, len(self._windows))]
        parts.append(self._open[max(0, start - self.final_tokens):])
        return np.concatenate(parts)

    # -- log-mel -------------------------------------------------------------------------------------------

    def _append_samples(self, samples: np.ndarray) -> None:
        self._samples = np.concatenate([self._samples, samples])
        self.samples_seen += len(samples)
        n_final = final_frames(self.samples_seen)
        # Frame f >= 2 of a span starting at sample 160 (f0 - 2) is centred where it is in the whole
        # signal and reads no left padding; from frame 0 the span is the signal itself.
        first = max(0, self._n_final - 2)
        span = self._samples[first * HOP - self._sample_base:]
        frames = log_mel_power(span)[:, self._n_final - first:] if len(span) >= HOP else np.zeros((N_MELS, 0))
        new_final = frames[:, :n_final - self._n_final]
        self._tail_raw = frames[:, n_final - self._n_final:]
        if new_final.shape[1]:
            self._store_final(new_final)
        keep_from = max(0, self._n_final - 2) * HOP
        self._samples = self._samples[keep_from - self._sample_base:]
        self._sample_base = keep_from

    def _store_final(self, frames: np.ndarray) -> None:
        end = self._n_final + frames.shape[1]
        if end > self._raw.shape[1] or self._raw.dtype != frames.dtype:
            grown = np.empty((N_MELS, max(end, 2 * self._raw.shape[1], 1024)), dtype=frames.dtype)
            grown[:, :self._n_final] = self._raw[:, :self._n_final]
            self._raw = grown
        self._raw[:, self._n_final:end] = frames
        self._n_final = end
        self._final_max = max(self._final_max, float(frames.max()))

    def _mel(self, first: int, last: int) -> np.ndarray:
        """Normalised frames [first, last) of the stream so far (final ones, then provisional)."""
        raw = self._raw[:, first:min(last, self._n_final)]
        if last > self._n_final:
            raw = np.concatenate([raw, self._tail_raw[:, max(0, first - self._n_final):last - self._n_final]], axis=1)
        return normalize(raw, self.floor)

    # -- conv stem and transformer ----------------------------------------------------------------------------

    def _refresh_stale_chunks(self) -> int:
        """Recompute cached chunks whose clamped values changed with the floor, and their windows; returns
        the first token of the first window affected (n_tokens if none)."""
        floors, mins = np.array(self._chunk_floor), np.array(self._chunk_min)
        stale = np.flatnonzero((floors != self.floor) & (mins < np.maximum(floors, self.floor))) if floors.size else []
        if len(stale) == 0:
            self._chunk_floor = [self.floor] * len(self._chunk_floor)  # unchanged values: same as with this floor
            return self.n_tokens
        mel = np.stack([self._mel(c * CHUNK_FRAMES, (c + 1) * CHUNK_FRAMES) for c in stale])
        for c, tokens in zip(stale, self.encoder.conv_chunks(mel)):
            self._chunk_tokens[c] = tokens
        self._chunk_floor = [self.floor] * len(self._chunk_floor)
        first_window = int(stale[0]) // self.window_chunks
        stale_windows = sorted({int(c) // self.window_chunks for c in stale if c // self.window_chunks < len(self._windows)})
        for w in stale_windows:
            self._windows[w] = self.encoder.attend(self._window_input(w)[None])[0]
        return first_window * self.encoder.window_tokens

    def _window_input(self, w: int) -> np.ndarray:
        chunks = self._chunk_tokens[w * self.window_chunks:(w + 1) * self.window_chunks]
        return np.concatenate(chunks)

    def _add_final_chunks(self) -> None:
        done = len(self._chunk_tokens)
        ready = self._n_final // CHUNK_FRAMES
        if ready <= done:
            return
        mel = np.stack([self._mel(c * CHUNK_FRAMES, (c + 1) * CHUNK_FRAMES) for c in range(done, ready)])
        self._chunk_tokens.extend(self.encoder.conv_chunks(mel))
        self._chunk_floor.extend([self.floor] * (ready - done))
        self._chunk_min.extend(float(self._raw[:, c * CHUNK_FRAMES:(c + 1) * CHUNK_FRAMES].min()) for c in range(done, ready))

    def _add_final_windows(self) -> None:
        ready = len(self._chunk_tokens) // self.window_chunks
        if ready > len(self._windows):
            group = np.stack([self._window_input(w) for w in range(len(self._windows), ready)])
            self._windows.extend(self.encoder.attend(group))

    def _open_window(self, frames: int) -> np.ndarray:
        """Transformer output of the tokens after the final windows: final chunks, then the open tail."""
        first_chunk = len(self._windows) * self.window_chunks
        parts = self._chunk_tokens[first_chunk:]
        tail_first = len(self._chunk_tokens) * CHUNK_FRAMES
        if frames > tail_first:
            parts = parts + [self.encoder.chunk_embeddings(self._mel(tail_first, frames), whole=frames < CHUNK_FRAMES)]
        if not parts:
            return np.zeros((0, self._windows[0].shape[1] if self._windows else 0), dtype=np.float32)
        tokens = np.concatenate(parts)  # up to 117 tokens: may reach into the next window
        assert len(tokens) + self.final_tokens == tokens_for_frames(frames)
        return self.encoder.windows(tokens)
