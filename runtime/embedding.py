"""Host-side token embedding table, float32 or int8 blocks shared with the decoder's output head.

The ASR models tie the output head to the embedding table, so an exported directory stores the table
once and the decoder graph's head reads the same file (ONNX external data with the .npy header as offset):
  float32: weights f32 [V, H]; the head is Gemm(hidden, weights, transB=1).
  int8:    weights u8 [V, H] holding q + 128 with q in [-127, 127], scales f32 [V, H / block];
           row v = (weights[v] - 128) * scales[v, h // block]. This is exactly the MatMulNBits bits=8
           weight layout (symmetric, implicit zero point 128), so the head is MatMulNBits on the same bytes.
Files are memory-mapped: a lookup touches only the rows it needs.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import ModelDirError

INT8_ZERO_POINT = 128


class EmbeddingTable:
    def __init__(self, weights: np.ndarray, scales: np.ndarray | None = None):
        if scales is None and weights.dtype != np.float32:
            raise ModelDirError(f"embedding table of dtype {weights.dtype} needs scales")
        if scales is not None and (weights.dtype != np.uint8 or weights.shape[1] % scales.shape[1]
                                   or scales.shape[0] != weights.shape[0]):
            raise ModelDirError(f"int8 embedding table {weights.shape} {weights.dtype} does not fit scales {scales.shape}")
        self.weights, self.scales = weights, scales

    @classmethod
    def load(cls, model_path: Path, section: dict) -> EmbeddingTable:
        """From the manifest's `embed_tokens` section: {"file": ..., "scales": ... (int8 only)}."""
        def load_array(name: str) -> np.ndarray:
            try:
                return np.load(model_path / name, allow_pickle=False, mmap_mode="r")
            except ValueError as exc:
                raise ModelDirError(f"{model_path / name}: not a plain .npy array ({exc})") from exc
        return cls(load_array(section["file"]), load_array(section["scales"]) if section.get("scales") else None)

    @property
    def precision(self) -> str:
        return "fp32" if self.scales is None else "int8"

    @property
    def shape(self) -> tuple[int, int]:
        return self.weights.shape

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        """Embeddings [..., H] float32 of int ids [...]."""
        ids = np.asarray(ids)
        rows = self.weights[ids.ravel()]
        if self.scales is not None:
            block = self.weights.shape[1] // self.scales.shape[1]
            q = rows.astype(np.float32) - INT8_ZERO_POINT
            rows = (q.reshape(len(q), -1, block) * self.scales[ids.ravel()][..., None]).reshape(len(q), -1)
        return np.asarray(rows, dtype=np.float32).reshape(*ids.shape, -1)
