"""Synthetic speech with exact word boundaries, for training and evaluating the demo models.

    python -m training.synth OUT_DIR --split train|heldout --count N [--seed S] [--workers 2] [--clean]

Every word (English) or character (Mandarin) is synthesized alone by espeak-ng, trimmed of silence and
joined with known random gaps, so each unit's start and end in the final signal are exact. Utterances vary
voice, speed and pitch, get random leading/trailing silence, and (unless --clean) noise at 10-35 dB SNR
(60 %) and mild sox room reverb (40 %; reverb only adds a tail, so boundaries stay valid). The held-out
split uses voices and sentences that never occur in training.

Writes OUT_DIR/<split>/audio/<id>.wav (16 kHz mono 16-bit) and OUT_DIR/<split>/manifest.jsonl with
{"id", "audio", "language", "text", "words": [{"text", "start", "end"}], "voice", "speed", "pitch",
 "snr_db", "reverb", "duration"}.
"""
from __future__ import annotations

import argparse
import io
import json
import random
import subprocess
import sys
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from .domain import sentences, units

RATE = 16000
VOICES = {
    "English": {"train": ["en-us", "en-gb", "en-us+m3", "en-us+f2", "en-gb+m5", "en-gb-scotland", "en-us+f4",
                          "en-gb-x-rp+m2", "en-029", "en-us+m7"],
                "heldout": ["en-us+f3", "en-gb+m4", "en-us-nyc", "en-gb-x-gbclan+f1"]},
    "Chinese": {"train": ["cmn", "cmn+m3", "cmn+f2", "cmn+m5", "cmn+f4", "cmn+m7"],
                "heldout": ["cmn+f3", "cmn+m4"]},
}
LANGUAGE_SHARE = {"English": 0.6, "Chinese": 0.4}
GAPS = {"English": (0.03, 0.25), "Chinese": (0.01, 0.12)}


def espeak(text: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    """One unit synthesized at 16 kHz, leading/trailing silence trimmed (frames below -40 dB of its peak)."""
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
                         capture_output=True, check=True).stdout
    audio, rate = sf.read(io.BytesIO(wav), dtype="float32")
    audio = soxr.resample(audio, rate, RATE).astype(np.float32)
    frame = RATE // 200
    energy = np.array([np.abs(audio[i:i + frame]).max() for i in range(0, len(audio), frame)])
    loud = np.flatnonzero(energy > energy.max() * 0.01)
    return audio[loud[0] * frame:(loud[-1] + 1) * frame]


def reverb(audio: np.ndarray, amount: int, room: int) -> np.ndarray:
    proc = subprocess.run(["sox", "-t", "f32", "-r", str(RATE), "-c", "1", "-", "-t", "f32", "-", "reverb", str(amount),
                           "50", str(room)], input=audio.astype(np.float32).tobytes(), capture_output=True, check=True)
    return np.frombuffer(proc.stdout, dtype=np.float32)[:len(audio)].copy()


def noise(rng: np.random.Generator, n: int, pink: bool) -> np.ndarray:
    white = rng.standard_normal(n)
    if not pink:
        return white
    spectrum = np.fft.rfft(white)
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    return np.fft.irfft(spectrum, n)


def make_utterance(job: tuple) -> dict:
    index, split, language, text, seed, clean = job
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    voice = rng.choice(VOICES[language][split])
    speed, pitch = rng.randint(120, 200), rng.randint(25, 75)
    pieces, words = [], []
    t = rng.uniform(0.1, 0.6)
    pieces.append(np.zeros(int(t * RATE), np.float32))
    for i, unit in enumerate(units(language, text)):
        if i:
            gap = np.zeros(int(rng.uniform(*GAPS[language]) * RATE), np.float32)
            pieces.append(gap)
            t += len(gap) / RATE
        sound = espeak(unit, voice, speed, pitch)
        words.append({"text": unit, "start": round(t, 4), "end": round(t + len(sound) / RATE, 4)})
        pieces.append(sound)
        t += len(sound) / RATE
    pieces.append(np.zeros(int(rng.uniform(0.1, 0.6) * RATE), np.float32))
    audio = np.concatenate(pieces)
    audio *= 0.5 / max(1e-6, float(np.abs(audio).max())) * rng.uniform(0.3, 1.0)
    snr_db = room = None
    if not clean and rng.random() < 0.4:
        room = rng.randint(10, 60)
        audio = reverb(audio, rng.randint(20, 60), room)
    if not clean and rng.random() < 0.6:
        snr_db = round(rng.uniform(10, 35), 1)
        n = noise(nrng, len(audio), pink=rng.random() < 0.5)
        audio = audio + n * np.sqrt(np.mean(audio ** 2) / np.mean(n ** 2) / 10 ** (snr_db / 10))
    audio = np.clip(audio, -1, 1).astype(np.float32)
    uid = f"{split}-{index:05d}"
    return {"id": uid, "audio": f"audio/{uid}.wav", "language": language, "text": text, "words": words,
            "voice": voice, "speed": speed, "pitch": pitch, "snr_db": snr_db, "reverb": room,
            "duration": round(len(audio) / RATE, 4), "_samples": audio}


def plan(split: str, count: int, seed: int, clean: bool) -> list[tuple]:
    rng = random.Random(f"{split}-{seed}")
    pools = {lang: sentences(lang, heldout=split == "heldout") for lang in LANGUAGE_SHARE}
    jobs = []
    for i in range(count):
        language = "English" if rng.random() < LANGUAGE_SHARE["English"] else "Chinese"
        jobs.append((i, split, language, rng.choice(pools[language]), rng.randrange(2**31), clean))
    return jobs


def generate(out_dir: Path, split: str, count: int, seed: int = 0, workers: int = 2, clean: bool = False) -> Path:
    split_dir = out_dir / split
    (split_dir / "audio").mkdir(parents=True, exist_ok=True)
    rows = []
    with Pool(workers) as pool:
        for row in pool.imap(make_utterance, plan(split, count, seed, clean), chunksize=8):
            sf.write(str(split_dir / row["audio"]), row.pop("_samples"), RATE, subtype="PCM_16")
            rows.append(row)
            if len(rows) % 100 == 0 or len(rows) == count:
                print(f"\r{split}: {len(rows)}/{count}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    (split_dir / "manifest.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                              encoding="utf-8")
    return split_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--split", choices=["train", "heldout"], required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clean", action="store_true", help="no noise and no reverb")
    args = parser.parse_args()
    print(generate(args.out_dir, args.split, args.count, args.seed, args.workers, args.clean))


if __name__ == "__main__":
    main()
