"""The command line as users run it: JSON lines for a folder of mixed clips, one-line errors, exit codes."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from qwen_asr_edge.audio import load_audio

JSON_KEYS = {"path", "language", "text", "raw", "tokens", "duration"}


def run_cli(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qwen_asr_edge", *map(str, args)], capture_output=True, text=True)


def test_folder_of_mixed_clips_gives_one_json_line_each(tiny_model, mixed_clips):
    proc = run_cli("transcribe", mixed_clips, "-m", tiny_model, "--format", "json", "--max-new-tokens", "6")
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    files = sorted(p for p in mixed_clips.iterdir())
    assert [Path(r["path"]).name for r in records] == [p.name for p in files]
    for record, path in zip(records, files):
        assert JSON_KEYS <= record.keys()
        info = sf.info(str(path))
        assert abs(record["duration"] - info.frames / info.samplerate) < 1e-3
        assert 1 <= len(record["tokens"]) <= 6
        assert all(isinstance(t, int) for t in record["tokens"])
    assert len({tuple(r["tokens"]) for r in records}) > 1  # different audio, different output


def test_resampling_and_downmix(mixed_clips):
    stereo, rate = sf.read(str(mixed_clips / "c_44k_stereo.wav"), dtype="float32")
    mono16k = load_audio(mixed_clips / "c_44k_stereo.wav")
    assert len(mono16k) == round(len(stereo) * 16000 / rate)
    # a pure tone keeps its frequency through resampling
    t = np.arange(8000) / 8000
    tone = load_audio(np.sin(2 * np.pi * 440 * t).astype(np.float32), sample_rate=8000)
    spectrum = np.abs(np.fft.rfft(tone))
    assert abs(np.argmax(spectrum) * 16000 / len(tone) - 440) < 2


def test_bad_inputs_fail_alone_with_one_line(tiny_model, mixed_clips, tmp_path):
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    empty = tmp_path / "empty.wav"
    sf.write(str(empty), np.zeros(0, dtype=np.float32), 16000)
    nan = tmp_path / "nan.wav"
    sf.write(str(nan), np.full(16000, np.nan, dtype=np.float32), 16000, subtype="FLOAT")
    good = mixed_clips / "a_16k.wav"
    proc = run_cli("transcribe", corrupt, tmp_path / "missing.wav", good, empty, nan, "-m", tiny_model,
                   "-f", "json", "--max-new-tokens", "3")
    assert proc.returncode == 2
    assert len(proc.stdout.splitlines()) == 1 and json.loads(proc.stdout)["path"] == str(good)
    errors = proc.stderr.splitlines()
    assert len(errors) == 4 and all(line.startswith("error: ") for line in errors)
    assert "Traceback" not in proc.stderr
    assert "file not found" in errors[1] and "empty" in errors[2] and "NaN" in errors[3]


def test_unusable_model_dirs(tiny_model, tmp_path, mixed_clips):
    clip = mixed_clips / "a_16k.wav"
    proc = run_cli("transcribe", clip, "-m", tmp_path / "nope")
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    ckpt_like = tmp_path / "ckpt"
    ckpt_like.mkdir()
    (ckpt_like / "config.json").write_text("{}")
    proc = run_cli("transcribe", clip, "-m", ckpt_like)
    assert proc.returncode == 2 and "qwen-asr-edge export" in proc.stderr
    partial = tmp_path / "partial"
    partial.mkdir()
    for f in tiny_model.iterdir():
        if f.name != "decoder.onnx":
            (partial / f.name).write_bytes(f.read_bytes())
    proc = run_cli("transcribe", clip, "-m", partial)
    assert proc.returncode == 2 and "decoder.onnx is missing" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_language_is_a_clear_error(tiny_model, mixed_clips):
    proc = run_cli("transcribe", mixed_clips / "a_16k.wav", "-m", tiny_model, "-l", "Klingon")
    assert proc.returncode == 2 and "unknown language 'Klingon'" in proc.stderr


def test_info_verifies_hashes(tiny_model, tmp_path):
    proc = run_cli("info", tiny_model, "--verify")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["kind"] == "asr"
    copy = tmp_path / "model"
    copy.mkdir()
    for f in tiny_model.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    tokenizer = copy / "tokenizer.json"
    data = bytearray(tokenizer.read_bytes())
    data[100] ^= 1  # same size, different content
    tokenizer.write_bytes(bytes(data))
    proc = run_cli("info", copy, "--verify")
    assert proc.returncode == 2 and "tokenizer.json is corrupt" in proc.stderr
