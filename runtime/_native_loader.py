"""The optional C++ extension `qwen_asr_edge._native` (built from cpp_ext/ by setup.py when a compiler is there).

Imported once; `QWEN_ASR_EDGE_NATIVE=0` (or false/no/off) in the environment disables it, so every caller
takes its numpy path. Modules that have a native path ask `native_module()` and fall back when it is None.
"""
from __future__ import annotations

import importlib.util
import os
from types import ModuleType

ENV_VAR = "QWEN_ASR_EDGE_NATIVE"

_loaded = False
_module: ModuleType | None = None
_reason: str | None = None


def _load() -> None:
    global _loaded, _module, _reason
    _loaded = True
    if os.environ.get(ENV_VAR, "").strip().lower() in ("0", "false", "no", "off"):
        _reason = f"disabled by {ENV_VAR}={os.environ[ENV_VAR]}"
        return
    if importlib.util.find_spec(f"{__package__}._native") is None:
        _reason = "not built (the package was installed without its compiled _native module)"
        return
    try:
        from . import _native
    except ImportError as exc:
        _reason = f"built but not importable ({exc})"
        return
    _module = _native


def native_module() -> ModuleType | None:
    """`qwen_asr_edge._native`, or None when it is disabled or was not built."""
    if not _loaded:
        _load()
    return _module


def native_unavailable_reason() -> str | None:
    """Why `native_module()` is None (None when the extension is in use)."""
    if not _loaded:
        _load()
    return _reason
