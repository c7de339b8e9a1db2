"""Audio preparation and long-audio cutting."""
import json
import subprocess

import numpy as np
import pytest

from qwen_asr_edge.audio import load_audio, split_long_audio
from qwen_asr_edge.errors import AudioError

from .fixtures import REFERENCE_DIR, reference_python, synth_clip


@pytest.mark.parametrize("seconds,max_seconds", [(95.3, 30.0), (61.0, 20.0), (40.2, 20.0), (12.0, 30.0)])
def test_long_audio_cuts_match_official(tmp_path, seconds, max_seconds):
    audio = synth_clip(seconds, seed=int(seconds))
    np.save(tmp_path / "a.npy", audio)
    proc = subprocess.run([str(reference_python()), str(REFERENCE_DIR / "official_split.py"), str(tmp_path / "a.npy"),
                           str(max_seconds)], capture_output=True, text=True, check=True)
    expected = json.loads(proc.stdout)
    windows = split_long_audio(audio, max_seconds)
    assert [len(w.audio) for w in windows] == [n for n, _ in expected]
    assert [w.offset for w in windows] == pytest.approx([off for _, off in expected], abs=1e-6)
    joined = np.concatenate([w.audio for w in windows])[:len(audio)]
    np.testing.assert_array_equal(joined, audio)  # windows tile the input exactly (padding only at a short tail)


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
