"""The exported model directory: `manifest.json` plus the files it lists, checked on every load.

Every load checks the format version and each listed file's size; sha256 hashes are checked on the first
load of a directory (remembered by path, size and mtime in ~/.cache/qwen-asr-edge/verified.json) and on
`qwen-asr-edge info --verify`. Nothing in a model directory is ever unpickled (`.npy` with
allow_pickle=False, ONNX protobufs, JSON).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError, ModelDirError

FORMAT_NAME = "qwen-asr-edge"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"

ENCODER_CONV = "encoder_conv"
ENCODER_TRANSFORMER = "encoder_transformer"
DECODER = "decoder"
# The decoder over a block of prompt tokens: in static models a graph of that fixed shape; in dynamic ones
# (optional, the `prefill` recipe part) the decoder graph at another precision, run for calls of many tokens.
DECODER_PREFILL = "decoder_prefill"
# A graph with more weight bytes than this keeps them in `<file>.data` (and protobuf files stop at 2 GB):
# ONNX Runtime maps that file instead of copying every weight out of the parsed protobuf. Measured on the 0.6B
# int4 model (a cold 1 s transcription, alternating runs): peak 912 MiB against 999-1023 MiB single-file, wall
# time the same within the noise (1.56-2.07 s against 1.67-1.94 s). The tiny demo models stay single files.
EXTERNAL_DATA_BYTES = 32 * 2**20


def decoder_cache_names(num_layers: int) -> tuple[list[str], list[str]]:
    """Decoder cache I/O names: inputs (prefix.i.key/value, past.i.key/value per layer) and outputs."""
    inputs, outputs = [], []
    for i in range(num_layers):
        inputs += [f"prefix.{i}.key", f"prefix.{i}.value", f"past.{i}.key", f"past.{i}.value"]
        outputs += [f"present.{i}.key", f"present.{i}.value"]
    return inputs, outputs


def static_cache_names(num_layers: int) -> tuple[list[str], list[str]]:
    """Static decoder cache I/O names: the buffer (past.i.key/value per layer) in, the new tokens' K/V out."""
    inputs = [f"past.{i}.{kind}" for i in range(num_layers) for kind in ("key", "value")]
    return inputs, [name.replace("past.", "new.") for name in inputs]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _verified_cache_path() -> Path:
    root = os.environ.get("QWEN_ASR_EDGE_CACHE") or Path.home() / ".cache" / "qwen-asr-edge"
    return Path(root) / "verified.json"


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}"


@dataclass(frozen=True)
class ModelDir:
    path: Path
    manifest: dict[str, Any]

    @property
    def kind(self) -> str:
        return self.manifest["kind"]

    @property
    def model(self) -> dict[str, Any]:
        return self.manifest["model"]

    @property
    def static(self) -> dict[str, Any] | None:
        """The static-shape (NPU) section, or None for the usual dynamic graphs."""
        return self.manifest.get("static")

    def file(self, name: str) -> Path:
        return self.path / name

    def graph(self, name: str, ort_format: bool = False) -> Path:
        """The graph file; with `ort_format` its ORT-format copy (`export --ort`), as a mobile build loads it."""
        if not ort_format:
            return self.path / self.manifest["graphs"][name]["file"]
        if "ort" not in self.manifest:
            raise ModelDirError(f"{self.path}: has no ORT-format copies (make them with `qwen-asr-edge export --ort` "
                                "or `quantize --ort`)")
        return self.path / self.manifest["ort"]["graphs"][name]

    def verify_hashes(self) -> None:
        """Recompute every sha256 and compare with the manifest (slow for big models)."""
        for name, meta in self.manifest["files"].items():
            if sha256_of(self.path / name) != meta["sha256"]:
                raise ModelDirError(f"{self.path}: {name} is corrupt (sha256 differs from manifest.json)")


def _check_sizes(path: Path, manifest: dict) -> None:
    for name, meta in manifest["files"].items():
        f = path / name
        if not f.is_file():
            raise ModelDirError(f"{path}: {name} is missing (partial copy or interrupted export?)")
        if f.stat().st_size != meta["size"]:
            raise ModelDirError(f"{path}: {name} has {f.stat().st_size} bytes, manifest.json says {meta['size']}")


def _verify_once(model: ModelDir) -> None:
    cache = _verified_cache_path()
    try:
        seen = set(json.loads(cache.read_text()))
    except (OSError, ValueError):
        seen = set()
    stamps = {_stamp(model.path / name) for name in model.manifest["files"]}
    if stamps <= seen:
        return
    model.verify_hashes()
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(sorted(seen | stamps)))
    except OSError:
        pass  # a read-only home only costs a re-check next time


def open_model_dir(path: str | os.PathLike, expected_kind: str | None = None, verify: bool = False) -> ModelDir:
    """Open and check an exported model directory; raise ModelDirError with a clear reason otherwise."""
    path = Path(path)
    if not path.exists():
        raise ModelDirError(f"{path}: model directory does not exist")
    if not path.is_dir():
        raise ModelDirError(f"{path}: not a directory")
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        if (path / "config.json").is_file():
            raise ModelDirError(
                f"{path}: this is a Hugging Face checkpoint, not an exported model; "
                f"convert it first: qwen-asr-edge export {path} OUT_DIR"
            )
        raise ModelDirError(f"{path}: no {MANIFEST} (not a qwen-asr-edge model directory)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelDirError(f"{manifest_path}: corrupt ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ModelDirError(f"{manifest_path}: not a {FORMAT_NAME} manifest")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ModelDirError(
            f"{path}: model format version {manifest.get('format_version')}, this runtime reads version {FORMAT_VERSION}; "
            "re-export the model with this version"
        )
    if expected_kind and manifest.get("kind") != expected_kind:
        raise ModelDirError(f"{path}: is a {manifest.get('kind')!r} model, expected {expected_kind!r}")
    _check_sizes(path, manifest)
    model = ModelDir(path, manifest)
    if verify:
        model.verify_hashes()
    else:
        _verify_once(model)
    return model


def start_model_dir(out_dir: Path) -> Path:
    """A fresh `<out_dir>.partial` to write into; refuses to later replace anything but an earlier export."""
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / MANIFEST).is_file():
        raise InputError(f"{out_dir}: exists and is not an exported model directory; refusing to overwrite it")
    work = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.parent.mkdir(parents=True, exist_ok=True)
    return work


def finish_model_dir(work: Path, out_dir: Path, manifest: dict[str, Any]) -> None:
    """Write work/manifest.json (format, version, size + sha256 of every other file), then move work to out_dir.

    `work` is `<out_dir>.partial`, so an interrupted export never leaves a directory that looks complete;
    `start_model_dir` has checked that an existing out_dir is an earlier export (or empty).
    """
    body = {**manifest, "format": FORMAT_NAME, "format_version": FORMAT_VERSION}
    files = sorted(p.name for p in work.iterdir() if p.name != MANIFEST)
    body["files"] = {name: {"size": (work / name).stat().st_size, "sha256": sha256_of(work / name)} for name in files}
    (work / MANIFEST).write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    work.rename(out_dir)
