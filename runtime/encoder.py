"""Audio encoder driver: log-mel [128, T] -> audio embeddings [N_tok, output_dim].

Chunking follows the official encoder exactly:
  - the mel is cut into 1 s chunks of 100 frames; the tail chunk (T % 100 frames) is zero-padded to 100
    when T >= 100, and left unpadded for a single sub-second utterance;
  - each chunk gives 13 tokens (a tail of r frames keeps ceil(r / 8)), so
    N_tok = 13 * (T // 100) + ceil((T % 100) / 8);
  - tokens are grouped into attention windows of 104 tokens (8 chunks = 8 s); attention never crosses a
    window, so windows are computed independently (the basis of streaming reuse).
"""
from __future__ import annotations

import numpy as np
import onnxruntime as ort

CHUNK_FRAMES = 100
CHUNK_TOKENS = 13
CONV_BATCH = 2  # chunks per conv-stem call: 2 is the fastest per chunk for fp32 and w8a8 stems (0.6B, 2 threads: 20.7 and 8.5 ms vs 24.4 and 13.3 at 8; benchmarks in docs/quantization.md)
WINDOW_BATCH = 8


def tokens_for_frames(frames: int) -> int:
    """Encoder output length for a mel of `frames` frames (the official _get_feat_extract_output_lengths)."""
    rest = frames % CHUNK_FRAMES
    return CHUNK_TOKENS * (frames // CHUNK_FRAMES) + (rest + 7) // 8


class AudioEncoder:
    def __init__(self, conv: ort.InferenceSession, transformer: ort.InferenceSession, window_chunks: int = 8):
        self.conv = conv
        self.transformer = transformer
        self.window_tokens = CHUNK_TOKENS * window_chunks

    def conv_chunks(self, chunks: np.ndarray) -> np.ndarray:
        """Conv stem: mel chunks [n, 128, F] -> tokens [n, ceil(F / 8), d], CONV_BATCH chunks per call.

        Each call's output is copied into one array and dropped at once: kept in a list until the end, the small
        outputs sat between the calls' freed 12 MB buffers and glibc's heap could not reuse them (0.6B, 60 s,
        2 chunks per call: RSS 881 -> 1422 MB during the stem)."""
        chunks = np.asarray(chunks, dtype=np.float32)
        out = None
        for i in range(0, len(chunks), CONV_BATCH):
            part = self.conv.run(None, {"mel_chunks": np.ascontiguousarray(chunks[i:i + CONV_BATCH])})[0]
            if out is None:
                out = np.empty((len(chunks), *part.shape[1:]), np.float32)
            out[i:i + len(part)] = part
            del part
        return out

    def chunk_embeddings(self, mel: np.ndarray, whole: bool = True) -> np.ndarray:
        """Conv stem over 1 s chunks: [128, T] -> [N_tok, d] (valid frames of every chunk, in order).

        `whole`: the mel is a whole utterance, so one shorter than a chunk stays unpadded; a streaming
        tail (whole=False) is always padded, as it is inside the longer utterance it belongs to."""
        frames = mel.shape[1]
        if frames < CHUNK_FRAMES and whole:
            return self.conv_chunks(mel[None])[0]
        n_chunks = -(-frames // CHUNK_FRAMES)
        padded = np.zeros((mel.shape[0], n_chunks * CHUNK_FRAMES), dtype=np.float32)
        padded[:, :frames] = mel
        out = self.conv_chunks(padded.reshape(mel.shape[0], n_chunks, CHUNK_FRAMES).transpose(1, 0, 2))
        return out.reshape(-1, out.shape[-1])[:tokens_for_frames(frames)]

    def attend(self, windows: np.ndarray) -> np.ndarray:
        """Transformer over independent attention windows [n, L, d] -> [n, L, output_dim] (L <= window)."""
        return self.transformer.run(None, {"windows": np.ascontiguousarray(windows, dtype=np.float32)})[0]

    def windows(self, tokens: np.ndarray) -> np.ndarray:
        """Transformer over independent attention windows: [N_tok, d] -> [N_tok, output_dim]."""
        w = self.window_tokens
        n_full = len(tokens) // w
        parts = []
        for i in range(0, n_full, WINDOW_BATCH):
            group = tokens[i * w:min(n_full, i + WINDOW_BATCH) * w].reshape(-1, w, tokens.shape[1])
            out = self.attend(group)
            parts.append(out.reshape(-1, out.shape[-1]))
        if len(tokens) % w:
            parts.append(self.attend(tokens[n_full * w:][None])[0])
        return np.concatenate(parts)

    def __call__(self, mel: np.ndarray) -> np.ndarray:
        return self.windows(self.chunk_embeddings(mel))


class StaticAudioEncoder(AudioEncoder):
    """The same encoder over the static-shape (NPU) graphs: one 100-frame chunk and one 104-token window per
    call. A short chunk is zero-padded to 100 frames and its valid tokens kept, which is what the official
    encoder does for every chunk but a lone sub-second utterance's (that one's last token differs slightly);
    a short window is padded and its padding masked by `key_bias`, which leaves the real tokens' result as is."""

    def __init__(self, conv: ort.InferenceSession, transformer: ort.InferenceSession, window_chunks: int,
                 mask_bias: float):
        super().__init__(conv, transformer, window_chunks)
        self.mask_bias = np.float32(mask_bias)

    def conv_chunks(self, chunks: np.ndarray) -> np.ndarray:
        outputs = []
        for chunk in np.asarray(chunks, dtype=np.float32):
            padded = np.zeros((1, chunk.shape[0], CHUNK_FRAMES), np.float32)
            padded[0, :, :chunk.shape[1]] = chunk
            out = self.conv.run(None, {"mel_chunks": padded})[0]
            outputs.append(out[:, :(chunk.shape[1] + 7) // 8])
        return np.concatenate(outputs)

    def attend(self, windows: np.ndarray) -> np.ndarray:
        outputs = []
        for window in np.asarray(windows, dtype=np.float32):
            padded = np.zeros((1, self.window_tokens, window.shape[1]), np.float32)
            padded[0, :len(window)] = window
            key_bias = np.full((1, self.window_tokens), self.mask_bias, np.float32)
            key_bias[0, :len(window)] = 0.0
            outputs.append(self.transformer.run(None, {"windows": padded, "key_bias": key_bias})[0][:, :len(window)])
        return np.concatenate(outputs)
