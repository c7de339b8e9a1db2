"""Audio preparation and long-audio cutting."""
import json
import subprocess

import numpy as np
import pytest

import soundfile as sf

from qwen_asr_edge.audio import AudioStream, load_audio, prepare, split_blocks
from qwen_asr_edge.errors import AudioError

from .fixtures import REFERENCE_DIR, reference_python, synth_clip, write_clip


@pytest.mark.parametrize("seconds,max_seconds", [(95.3, 30.0), (61.0, 20.0), (40.2, 20.0), (12.0, 30.0)])
def test_long_audio_cuts_match_official(tmp_path, seconds, max_seconds):
    audio = synth_clip(seconds, seed=int(seconds))
    np.save(tmp_path / "a.npy", audio)
    proc = subprocess.run([str(reference_python()), str(REFERENCE_DIR / "official_split.py"), str(tmp_path / "a.npy"),
                           str(max_seconds)], capture_output=True, text=True, check=True)
    expected = json.loads(proc.stdout)
    rng = np.random.default_rng(int(seconds))
    sizes = rng.integers(1, 8 * 16000, 200).cumsum()
    for blocks in ([audio], np.split(audio, sizes[sizes < len(audio)])):  # whole, and streamed in random pieces
        windows = list(split_blocks(blocks, max_seconds))
        assert [len(w.audio) for w in windows] == [n for n, _ in expected]
        assert [w.offset for w in windows] == pytest.approx([off for _, off in expected], abs=1e-6)
        joined = np.concatenate([w.audio for w in windows])[:len(audio)]
        np.testing.assert_array_equal(joined, audio)  # windows tile the input exactly (padding only at a short tail)
        assert sum(w.seconds for w in windows) == pytest.approx(len(audio) / 16000)


def test_files_are_read_in_blocks_like_whole(tmp_path):
    """Streamed decoding + soxr's streaming resampler == whole-file read + one-shot resampling."""
    path = write_clip(tmp_path / "long.wav", 47.3, seed=3, rate=44100, channels=2)
    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    whole = prepare(data, rate)
    streamed = load_audio(path)
    assert abs(len(streamed) - len(whole)) <= 1
    n = min(len(streamed), len(whole))
    np.testing.assert_allclose(streamed[:n], whole[:n], atol=1e-5)
    stream = AudioStream(path, max_seconds=20)
    windows = list(stream)
    assert [round(w.offset) for w in windows][:1] == [0] and len(windows) == 3
    assert stream.seconds == pytest.approx(47.3, abs=1e-3)


def test_int16_and_peak_rules():
    x = (np.sin(np.arange(16000) / 10) * 16000).astype(np.int16)
    np.testing.assert_allclose(load_audio(x, sample_rate=16000), x / 32768.0, atol=1e-7)
    loud = np.sin(np.arange(16000) / 10).astype(np.float32) * 3
    assert np.abs(load_audio(loud, sample_rate=16000)).max() == pytest.approx(1.0)
    quiet = loud / 30
    np.testing.assert_allclose(load_audio(quiet, sample_rate=16000), quiet)  # no loudness normalisation


@pytest.mark.parametrize("samples,message", [(np.zeros(0, np.float32), "empty"),
                                             (np.zeros(800, np.float32), "too short"),
                                             (np.array([0.1, np.inf] * 1000, np.float32), "NaN or Inf")])
def test_bad_arrays(samples, message):
    with pytest.raises(AudioError, match=message):
        load_audio(samples, sample_rate=16000)
