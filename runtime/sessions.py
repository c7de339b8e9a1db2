"""ONNX Runtime session creation: one place for threads, execution providers and logging.

Providers: cpu (always), qnn (Qualcomm HTP through the `onnxruntime-qnn` plugin; static-shape graphs only,
see `export --static`), xnnpack and nnapi (where this ONNX Runtime build has them, e.g. the Android one).
A provider that this machine or model cannot use falls back to the CPU with a one-line notice on stderr;
nodes a provider does not take run on the CPU unless `strict`, which makes that an error.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import lru_cache
from pathlib import Path

import onnxruntime as ort

from .errors import InputError, ModelDirError

PROVIDERS = ("cpu", "qnn", "xnnpack", "nnapi")
_BUILT_IN = {"cpu": "CPUExecutionProvider", "xnnpack": "XnnpackExecutionProvider", "nnapi": "NnapiExecutionProvider"}
_noticed: set[str] = set()


def notice(message: str) -> None:
    """Print `message` on stderr once per process."""
    if message not in _noticed:
        _noticed.add(message)
        print(f"notice: {message}", file=sys.stderr)


@lru_cache(maxsize=1)
def qnn_devices() -> tuple | None:
    """The QNN plugin's HTP devices (registering the plugin once), or None without `onnxruntime-qnn`."""
    try:
        import onnxruntime_qnn as qnn
    except ImportError:
        return None
    ort.register_execution_provider_library(qnn.get_ep_name(), qnn.get_library_path())
    devices = tuple(d for d in ort.get_ep_devices() if d.ep_name == qnn.get_ep_name())
    return devices or None


def _qnn_options() -> dict[str, str]:
    import onnxruntime_qnn as qnn
    return {"backend_path": qnn.get_qnn_htp_path()}


def usable_provider(provider: str, static_graphs: bool) -> str:
    """`provider` if this machine and model can use it, else "cpu" (with a notice)."""
    if provider not in PROVIDERS:
        raise InputError(f"provider {provider!r} is not supported; available: {', '.join(PROVIDERS)}")
    if provider == "qnn":
        if qnn_devices() is None:
            notice("--provider qnn needs the onnxruntime-qnn package (pip install onnxruntime-qnn); running on the CPU")
            return "cpu"
        if not static_graphs:
            notice("--provider qnn needs static-shape graphs (qwen-asr-edge export --static, then quantize --quant qdq); "
                   "this model has dynamic shapes, running on the CPU")
            return "cpu"
    elif _BUILT_IN[provider] not in ort.get_available_providers():
        notice(f"this onnxruntime build has no {_BUILT_IN[provider]}; running on the CPU")
        return "cpu"
    return provider


@lru_cache(maxsize=1)
def _malloc_trim():
    """glibc's malloc_trim, or None (musl, bionic, macOS, Windows)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def release_freed_memory() -> None:
    """Return the C heap's free pages to the OS where the C library can (glibc's malloc_trim(0)). Loading a
    graph frees its protobuf and the weights that pre-packing replaced, about 125 MB for the 0.6B int4
    model, which glibc would otherwise keep in the process's RSS for good."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def make_session(path: Path, threads: int = 0, provider: str = "cpu", strict: bool = False) -> ort.InferenceSession:
    """An InferenceSession on `provider` (already checked by `usable_provider`); threads=0 lets ONNX Runtime
    use one thread per physical core."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Without ONNX Runtime's arena, buffers go back to the heap after every run instead of staying reserved
    # at their largest size: 0.6B int4, 60 s of audio, peak RSS 1444 -> 1139 MiB (benchmarks.memory), for
    # about 7 % more time end to end on 60 s and none measurable on 10 s (benchmarks.speed's child).
    options.enable_cpu_mem_arena = False
    if Path(path).suffix == ".ort":  # replay the CPU fusions saved in the file (quantize/ort_format.py)
        options.add_session_config_entry("session.enable_saved_runtime_optimizations", "1")
    providers = [_BUILT_IN["cpu"]]
    if strict:
        options.add_session_config_entry("session.disable_cpu_ep_fallback", "1")
    if provider == "qnn":
        options.add_provider_for_devices(list(qnn_devices()), _qnn_options())
        providers = None
    elif provider != "cpu":
        providers = [_BUILT_IN[provider], _BUILT_IN["cpu"]]
    try:
        session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
    except Exception as exc:  # ORT raises its own exception types for corrupt or foreign graphs
        raise ModelDirError(f"{path}: cannot load the ONNX graph on {provider} ({str(exc).splitlines()[0][:300]})") from exc
    release_freed_memory()
    return session
