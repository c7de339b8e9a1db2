"""Batch inputs of `transcribe`: which files, where their results go, and a progress bar on terminals."""
from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from tqdm import tqdm

# Suffixes picked up inside directories (without --glob): soundfile's formats, and containers that
# ffmpeg decodes when it is installed.
AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".oga", ".mp3", ".aiff", ".aif", ".au", ".opus", ".caf", ".w64",
                  ".m4a", ".mp4", ".aac", ".webm", ".mkv", ".mov", ".wma", ".amr", ".3gp"}


@dataclass(frozen=True)
class BatchItem:
    path: Path
    output_stem: Path  # relative output path without suffix: the name, or the path inside a directory argument


def collect_inputs(arguments: Sequence[str], pattern: str | None = None) -> list[BatchItem]:
    """Files as given (even missing ones, which then fail with their own error line); directories
    contribute their files recursively, sorted: those matching `pattern` (a glob such as '*.m4a' or
    '**/take*.wav'), or every file with an audio suffix; a directory without any stays an input of its own,
    which then fails with its own error line."""
    items: list[BatchItem] = []
    for argument in arguments:
        path = Path(argument)
        if not path.is_dir():
            items.append(BatchItem(path, Path(path.stem)))
            continue
        found = path.glob(pattern) if pattern else (f for f in path.rglob("*") if f.suffix.lower() in AUDIO_SUFFIXES)
        files = [BatchItem(f, f.relative_to(path).with_suffix("")) for f in sorted(found) if f.is_file()]
        items += files or [BatchItem(path, Path(path.name))]  # nothing to transcribe: it fails with its own line
    return items


def output_path(output_dir: Path, item: BatchItem, extension: str) -> Path:
    return output_dir / item.output_stem.with_name(item.output_stem.name + "." + extension)


def write_atomically(path: Path, data: str | bytes) -> None:
    """Write `data` (text as UTF-8, or bytes) to `path` through a temporary file in the same folder: never a
    partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with (os.fdopen(handle, "w", encoding="utf-8") if isinstance(data, str) else os.fdopen(handle, "wb")) as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


class NoProgressBar:
    """What the CLI calls on a progress bar, doing nothing: without a terminal, tqdm is not even imported
    (its import is 40-100 ms of a 2 s cold start)."""

    def __enter__(self) -> NoProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int = 1) -> None:
        pass

    def clear(self) -> None:
        pass

    def set_postfix_str(self, text: str = "", refresh: bool = True) -> None:
        pass


def progress_bar(total: int, enabled: bool = True) -> tqdm | NoProgressBar:
    """A files bar on stderr, only when stderr is a terminal."""
    if not (enabled and sys.stderr.isatty()):
        return NoProgressBar()
    from tqdm import tqdm
    return tqdm(total=total, unit="file", file=sys.stderr, dynamic_ncols=True, leave=False)
