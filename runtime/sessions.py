"""ONNX Runtime session creation: one place for threads, providers and logging."""
from __future__ import annotations

from pathlib import Path

import onnxruntime as ort

from .errors import InputError, ModelDirError

PROVIDERS = {"cpu": "CPUExecutionProvider"}


def make_session(path: Path, threads: int = 0, provider: str = "cpu") -> ort.InferenceSession:
    """An InferenceSession; threads=0 lets ONNX Runtime use one thread per physical core."""
    if provider not in PROVIDERS:
        raise InputError(f"provider {provider!r} is not supported yet; available: {', '.join(PROVIDERS)}")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=[PROVIDERS[provider]])
    except Exception as exc:  # ORT raises its own exception types for corrupt or foreign graphs
        raise ModelDirError(f"{path}: cannot load the ONNX graph ({str(exc).splitlines()[0][:200]})") from exc
