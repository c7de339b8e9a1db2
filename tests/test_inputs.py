"""Real-world inputs through the CLI: a corpus of bad inputs in one batch with good ones, broken model
directories, output directories and resuming, languages, ffmpeg formats, a progress bar on a terminal."""
import fcntl
import json
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import termios

import numpy as np
import pytest
import soundfile as sf

from qwen_asr_edge.cli import main
from qwen_asr_edge.transcriber import bundled_model_dir
from qwen_asr_edge.vad import silero_model_path

from .fixtures import REPO

SAMPLE = REPO / "samples" / "en_office_temperature.wav"
EXPECTED = "set the office temperature to twenty four degrees"


def _wav_header(frames_claimed: int) -> bytes:
    data = frames_claimed * 2
    return (b"RIFF" + struct.pack("<I", 36 + data) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16)
            + b"data" + struct.pack("<I", data))


def _bad_inputs(folder) -> dict[str, str]:
    """name -> the words its error line must contain."""
    rng = np.random.default_rng(0)
    speech = SAMPLE.read_bytes()
    bad = {}

    def put(name, content, expect):
        (folder / name).write_bytes(content)
        bad[name] = expect

    put("empty.wav", b"", "empty")
    put("empty.flac", b"", "empty")
    put("header_only.wav", _wav_header(0), "empty")
    put("header_claims_more.wav", _wav_header(16000 * 60) + b"\0" * 400, "too short")
    put("cut_in_header.wav", speech[:30], "cannot decode")
    for suffix in ("wav", "flac", "ogg", "mp3", "aiff", "opus", "m4a", "webm", "mp4", "aac", "wma"):
        put(f"random_bytes.{suffix}", rng.integers(0, 256, 5000, dtype=np.uint8).tobytes(), "decode")
    put("text.wav", b"this is not audio, just text\n" * 50, "decode")
    put("html.mp3", b"<html><body>404 not found</body></html>", "decode")
    put("picture.wav", b"\x89PNG\r\n\x1a\n" + rng.integers(0, 256, 2000, dtype=np.uint8).tobytes(), "decode")
    for name, value in (("nan.wav", np.nan), ("inf.flac", np.inf)):
        samples = np.full(16000, 0.1, np.float32)
        samples[5000] = value
        sf.write(str(folder / name), samples, 16000, subtype="FLOAT" if name.endswith("wav") else "PCM_24")
        bad[name] = "NaN or Inf"
    bad["inf.flac"] = "decode"  # FLAC is integer PCM: soundfile refuses to write Inf, so make it unreadable
    (folder / "inf.flac").write_bytes(b"fLaC" + rng.integers(0, 256, 300, dtype=np.uint8).tobytes())
    sf.write(str(folder / "short_50ms.wav"), np.zeros(800, np.float32), 16000)
    bad["short_50ms.wav"] = "too short"
    sf.write(str(folder / "short_8k_90ms.flac"), np.zeros(720, np.float32), 8000)
    bad["short_8k_90ms.flac"] = "too short"
    (folder / "folder_named.wav").mkdir()
    bad["folder_named.wav"] = "directory"
    os.symlink(folder / "gone.wav", folder / "dangling.wav")
    bad["dangling.wav"] = "not found"
    bad["missing.wav"] = "not found"
    return bad


def test_bad_inputs_never_lose_the_good_ones(tmp_path, capsys):
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    bad = _bad_inputs(bad_dir)
    assert len(bad) >= 25
    good = [tmp_path / "good1.wav", tmp_path / "good2.flac"]
    shutil.copy(SAMPLE, good[0])
    data, rate = sf.read(str(SAMPLE))
    sf.write(str(good[1]), data, rate)
    arguments = [str(good[0]), *(str(bad_dir / name) for name in sorted(bad)), str(good[1])]
    assert main(["transcribe", *arguments, "--format", "json"]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert [r["path"] for r in records] == [str(good[0]), str(good[1])]
    assert all(r["text"] == EXPECTED for r in records)
    errors = [line for line in captured.err.splitlines() if line.startswith("error: ")]
    assert len(errors) == len(bad)
    for name, expect in bad.items():
        line = next(e for e in errors if e.startswith(f"error: {bad_dir / name}: "))
        assert expect in line, line


def _corrupt_model_dirs(root):
    """name -> (model dir, words of the error line)."""
    model = bundled_model_dir()
    cases = {}

    def copy(name):
        target = root / name
        shutil.copytree(model, target)
        return target

    (root / "text_file").write_text("not a model")
    cases["text file"] = (root / "text_file", "not a directory")
    cases["missing dir"] = (root / "nowhere", "does not exist")
    (root / "empty").mkdir()
    cases["empty dir"] = (root / "empty", "no manifest.json")
    missing = copy("missing_graph")
    (missing / "decoder.onnx").unlink()
    cases["missing graph"] = (missing, "decoder.onnx is missing")
    flipped = copy("wrong_hash")
    blob = bytearray((flipped / "encoder_transformer.onnx").read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (flipped / "encoder_transformer.onnx").write_bytes(bytes(blob))
    cases["wrong hash"] = (flipped, "corrupt (sha256")
    truncated = copy("truncated")
    (truncated / "embed_tokens.q8.npy").write_bytes((truncated / "embed_tokens.q8.npy").read_bytes()[:1000])
    cases["truncated table"] = (truncated, "has 1000 bytes")
    broken = copy("broken_manifest")
    (broken / "manifest.json").write_text("{ not json")
    cases["corrupt manifest"] = (broken, "corrupt")
    future = copy("future_version")
    manifest = json.loads((future / "manifest.json").read_text())
    manifest["format_version"] = 99
    (future / "manifest.json").write_text(json.dumps(manifest))
    cases["newer format"] = (future, "format version 99")
    checkpoint = root / "checkpoint"
    checkpoint.mkdir()
    (checkpoint / "config.json").write_text("{}")
    cases["checkpoint as model"] = (checkpoint, "Hugging Face checkpoint")
    return cases


def test_broken_model_directories_get_one_clear_line(tmp_path, capsys):
    for case, (model_dir, expect) in _corrupt_model_dirs(tmp_path).items():
        assert main(["transcribe", str(SAMPLE), "-m", str(model_dir)]) == 2, case
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {model_dir}: ") and expect in lines[0], (case, lines)
        assert captured.out == ""
    # and the reverse: an exported model where a checkpoint is expected
    assert main(["export", str(bundled_model_dir()), str(tmp_path / "out")]) == 2
    assert "already an exported model directory" in capsys.readouterr().err


def test_requests_that_cannot_run(capsys):
    assert main(["transcribe", str(SAMPLE), "-l", "Klingon"]) == 2
    assert "unknown language 'Klingon'" in capsys.readouterr().err
    assert main(["transcribe", str(SAMPLE), "--context", "word " * 3000]) == 2
    assert "context is longer than" in capsys.readouterr().err
    assert main(["transcribe", str(SAMPLE), "--skip-existing"]) == 2
    assert "needs --output-dir" in capsys.readouterr().err


def test_languages_by_name_and_code(capsys):
    for language in ("en", "EN", "english", "English"):
        assert main(["transcribe", str(SAMPLE), "-l", language, "-f", "json"]) == 0
        record = json.loads(capsys.readouterr().out)
        assert record["language"] == "English" and record["text"] == EXPECTED
    assert main(["info", "--languages"]) == 0
    listed = dict(line.split("\t") for line in capsys.readouterr().out.splitlines())
    assert len(listed) == 30 and listed["Cantonese"] == "yue" and listed["Filipino"] == "fil,tl"


def test_output_dir_mirrors_inputs_and_resumes(tmp_path, capsys):
    source = tmp_path / "in"
    (source / "day1").mkdir(parents=True)
    shutil.copy(SAMPLE, source / "day1" / "a.wav")
    shutil.copy(REPO / "samples" / "zh_timer.wav", source / "b.wav")
    (source / "notes.txt").write_text("not audio: not picked up from a directory")
    out = tmp_path / "out"
    assert main(["transcribe", str(source), "-o", str(out), "-f", "json"]) == 0
    assert capsys.readouterr().out == ""
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == ["b.json", "day1/a.json"]
    assert json.loads((out / "day1" / "a.json").read_text())["text"] == EXPECTED
    (out / "b.json").unlink()
    before = (out / "day1" / "a.json").stat().st_mtime_ns
    assert main(["transcribe", str(source), "-o", str(out), "-f", "json", "--skip-existing"]) == 0
    assert "skipped 1 input" in capsys.readouterr().err
    assert (out / "day1" / "a.json").stat().st_mtime_ns == before and (out / "b.json").is_file()
    assert main(["transcribe", str(source), "--glob", "**/a.wav"]) == 0
    assert capsys.readouterr().out.strip() == EXPECTED


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed (scripts/test.sh installs it)")
def test_ffmpeg_formats(tmp_path, capsys):
    paths = []
    for suffix, codec in (("m4a", "aac"), ("webm", "libopus"), ("mp4", "aac")):
        path = tmp_path / f"sample.{suffix}"
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(SAMPLE), "-c:a", codec, "-ar", "48000",
                        "-ac", "2", str(path)], check=True)
        paths.append(str(path))
    assert main(["transcribe", *paths, "-f", "json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in records] == [EXPECTED] * 3
    assert all(abs(r["duration"] - sf.info(str(SAMPLE)).duration) < 0.1 for r in records)


def test_progress_bar_on_a_terminal(tmp_path):
    """With stderr on a pseudo-terminal, tqdm draws a files bar; piped output carries no bar."""
    clips = [str(SAMPLE)] * 3
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal of 100 columns
    proc = subprocess.Popen([sys.executable, "-m", "qwen_asr_edge", "transcribe", *clips], stdout=subprocess.PIPE,
                            stderr=slave, cwd=tmp_path)
    os.close(slave)
    terminal = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        terminal += chunk
    out = proc.communicate(timeout=120)[0].decode()
    os.close(master)
    assert proc.returncode == 0
    assert out.splitlines() == [EXPECTED] * 3
    assert b"/3 [" in terminal and b"file" in terminal
    piped = subprocess.run([sys.executable, "-m", "qwen_asr_edge", "transcribe", *clips], capture_output=True, text=True)
    assert "file/s" not in piped.stderr and "3/3" not in piped.stderr


def _write_long_wav(path, minutes):
    """The two samples with pauses, repeated for `minutes`, written block by block (never whole in memory)."""
    speech = [sf.read(str(REPO / "samples" / name), dtype="int16")[0]
              for name in ("en_office_temperature.wav", "zh_timer.wav")]
    unit = np.concatenate([speech[0], np.zeros(16000, np.int16), speech[1], np.zeros(24000, np.int16)])
    total = minutes * 60 * 16000
    with sf.SoundFile(str(path), "w", 16000, 1, "PCM_16") as out:
        written = 0
        while written < total:
            piece = unit[:total - written]
            out.write(piece)
            written += len(piece)


PEAK_RSS = ("import sys; from qwen_asr_edge.cli import main; code = main(sys.argv[1:]); "
            "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1], file=sys.stderr); "
            "sys.exit(code)")


def test_one_hour_in_the_memory_of_one_minute(tmp_path):
    peaks, texts = {}, {}
    for minutes in (1, 60):
        path = tmp_path / f"{minutes}min.wav"
        _write_long_wav(path, minutes)
        proc = subprocess.run([sys.executable, "-c", PEAK_RSS, "transcribe", str(path), "-f", "json", "-t", "2"],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        peaks[minutes] = int(proc.stderr.strip().splitlines()[-1]) / 1024
        texts[minutes] = json.loads(proc.stdout)
    print(f"peak RSS: 1 minute {peaks[1]:.0f} MB, 1 hour {peaks[60]:.0f} MB")
    assert peaks[60] <= 1.15 * peaks[1]
    hour = texts[60]
    assert hour["duration"] == pytest.approx(3600, abs=0.01) and len(hour["segments"]) >= 110
    assert all(s["end"] - s["start"] <= 35.0 for s in hour["segments"])  # 30 s windows, cut within +-5 s
    # (no check of the words: the demo model was trained on single commands, not 30 s of several of them)


@pytest.mark.parametrize("vad", ["energy", "silero"])
def test_vad_windows_hold_whole_utterances(tmp_path, capsys, vad):
    """Three minutes of commands with 1-1.5 s pauses: one window per utterance, each transcribed right."""
    if vad == "silero" and silero_model_path() is None:
        pytest.skip("silero-vad is not installed (scripts/test.sh installs it with --no-deps)")
    path = tmp_path / "three_minutes.wav"
    _write_long_wav(path, 3)
    assert main(["transcribe", str(path), "--vad", vad, "-f", "json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["duration"] == pytest.approx(180.0)
    speech = [sf.info(str(REPO / "samples" / name)).duration for name in ("en_office_temperature.wav", "zh_timer.wav")]
    expected, at = [], 0.0  # (start, end, text) of every utterance as _write_long_wav lays them out
    while at < 180.0:
        for seconds, text, pause in zip(speech, (EXPECTED, "设置一个六十三分钟的定时器"), (1.0, 1.5)):
            if at + seconds <= 180.0:
                expected.append((at, at + seconds, text))
            at += seconds + pause
    segments = record["segments"]
    assert [s["text"] for s in segments] == [text for _, _, text in expected]
    for segment, (start, end, _) in zip(segments, expected):
        assert start - 0.05 <= segment["start"] and segment["end"] <= end + 0.25  # inside the clip, pads included
    assert all(a["end"] <= b["start"] for a, b in zip(segments, segments[1:]))
