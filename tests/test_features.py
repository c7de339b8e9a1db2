"""Log-mel features: the C++ extension (offline and streaming) against the numpy reference and transformers.

Tests of the extension skip with the reason when `qwen_asr_edge._native` is not built (or disabled with
QWEN_ASR_EDGE_NATIVE=0); set QWEN_ASR_EDGE_REQUIRE_NATIVE=1 to make that a failure instead.
"""
from __future__ import annotations

import itertools
import os
import subprocess
import sys

import numpy as np
import pytest

from qwen_asr_edge import features

from .fixtures import synth_clip

HOP = 160


def _square_wave(seconds: float, hz: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * 16000)) / 16000
    return np.where(np.sin(2 * np.pi * hz * t) >= 0, 1.0, -1.0).astype(np.float32)


CLIPS = {
    "speech": lambda: synth_clip(5.0, seed=3),
    "silence": lambda: np.zeros(3 * 16000, dtype=np.float32),
    "clipping": lambda: _square_wave(2.0),
    "short_0.3s": lambda: synth_clip(0.3, seed=4),
    "long_70s": lambda: synth_clip(70.0, seed=5),
    "odd_length": lambda: synth_clip(1.2345, seed=6),  # 19752 samples: N % 160 = 72
}


@pytest.fixture(scope="module")
def clips() -> dict[str, np.ndarray]:
    return {name: make() for name, make in CLIPS.items()}


def _max_abs(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max()) if a.size else 0.0


# --- offline: native == numpy == transformers --------------------------------------------------------------


@pytest.mark.parametrize("name", list(CLIPS))
def test_native_equals_numpy(native, clips, name):
    audio = clips[name]
    power = native.log_mel_power(audio)
    assert power.dtype == np.float32 and power.shape == (128, len(audio) // HOP)
    assert _max_abs(power, features.log_mel_power_numpy(audio)) <= 1e-5
    assert _max_abs(native.log_mel_spectrogram(audio), features.log_mel_spectrogram_numpy(audio)) <= 1e-5


@pytest.fixture(scope="module")
def whisper_features(clips):
    """transformers' WhisperFeatureExtractor(feature_size=128), torch path, batch 1, no padding."""
    pytest.importorskip("torch")  # the extractor's torch path (what Qwen3-ASR's processor runs)
    transformers = pytest.importorskip("transformers")
    extractor = transformers.WhisperFeatureExtractor(feature_size=128)
    cache: dict[str, np.ndarray] = {}

    def get(name: str) -> np.ndarray:
        if name not in cache:
            audio = clips[name]
            n_frames = len(audio) // HOP
            out = extractor(audio, sampling_rate=16000, return_tensors="np", padding="longest", truncation=False,
                            return_attention_mask=True)
            assert out["attention_mask"][0].sum() == n_frames
            cache[name] = out["input_features"][0][:, :n_frames]
            assert cache[name].shape == (128, n_frames)
        return cache[name]

    return get


@pytest.mark.parametrize("name", list(CLIPS))
def test_numpy_equals_whisper_feature_extractor(clips, whisper_features, name):
    assert _max_abs(features.log_mel_spectrogram_numpy(clips[name]), whisper_features(name)) <= 1e-4


@pytest.mark.parametrize("name", list(CLIPS))
def test_native_equals_whisper_feature_extractor(native, clips, whisper_features, name):
    assert _max_abs(native.log_mel_spectrogram(clips[name]), whisper_features(name)) <= 1e-4


def test_mel_filters_equal(native):
    assert _max_abs(native.mel_filters(), features.mel_filters()) <= 1e-15
    assert _max_abs(native.mel_filters(80), features.mel_filters(80)) <= 1e-15


def test_public_functions_use_the_active_backend(native, clips):
    audio = clips["speech"]
    assert features.NATIVE and features.BACKEND == "native"
    np.testing.assert_array_equal(features.log_mel_power(audio), native.log_mel_power(audio))
    np.testing.assert_array_equal(features.log_mel_spectrogram(audio), native.log_mel_spectrogram(audio))
    # the native normalisation (in C++) and features.normalize_log_mel give the same bits
    np.testing.assert_array_equal(features.normalize_log_mel(native.log_mel_power(audio)),
                                  native.log_mel_spectrogram(audio))


def test_native_input_handling(native, clips):
    audio = clips["odd_length"]
    np.testing.assert_array_equal(native.log_mel_power(audio.astype(np.float64)), native.log_mel_power(audio))
    np.testing.assert_array_equal(native.log_mel_power(audio[::2]), native.log_mel_power(audio[::2].copy()))
    for n in (0, 1, 159):
        assert native.log_mel_power(np.zeros(n, np.float32)).shape == (128, 0)
        assert features.log_mel_power_numpy(np.zeros(n, np.float32)).shape == (128, 0)
    for n in (160, 200, 201, 359):  # reflect padding longer than the signal, as numpy repeats it
        x = synth_clip(1.0, seed=n)[:n]
        assert _max_abs(native.log_mel_power(x), features.log_mel_power_numpy(x)) <= 1e-5
    with pytest.raises(ValueError, match="1-D"):
        native.log_mel_power(np.zeros((2, 1000), np.float32))
    with pytest.raises(RuntimeError, match="n_fft must be even"):
        native.LogMelOptions(n_fft=401)
    options = native.LogMelOptions(n_mels=80)
    assert native.log_mel_power(audio, options).shape == (80, len(audio) // HOP)


def test_public_functions_reject_multichannel_audio():
    for function in (features.log_mel_power, features.log_mel_spectrogram):
        with pytest.raises(ValueError, match="1-D"):
            function(np.zeros((2, 1000), np.float32))


# --- streaming -----------------------------------------------------------------------------------------------


def _final_frames(samples: int) -> int:
    """Frames f < samples // 160 that are final once `samples` samples have arrived (before the end is known):
    frame 0 needs sample index 200 (its left padding mirrors samples 1..200), frame f >= 1 160 f + 200 samples."""
    return 0 if samples < 201 else min(samples // HOP, (samples - 200) // HOP + 1)


def _stream(native, audio: np.ndarray, sizes) -> np.ndarray:
    """Feed audio in pieces of the given sizes, checking timing and buffering; return all frames [128, T]."""
    stream = native.StreamingLogMel()
    frames, pos = [], 0
    for size in sizes:
        if pos >= len(audio):
            break
        piece = audio[pos:pos + size]
        stream.accept_waveform(piece)
        pos += len(piece)
        assert stream.num_frames_ready == _final_frames(pos)
        assert stream.num_samples_buffered < 400
        if stream.num_frames_ready - stream.num_frames_popped >= 2:
            frames.append(stream.pop_frames(stream.num_frames_ready - stream.num_frames_popped - 1))
    assert pos == len(audio)
    stream.input_finished()
    assert stream.num_frames_ready == len(audio) // HOP
    frames.append(stream.pop_frames())
    assert stream.num_frames_popped == stream.num_frames_ready
    return np.concatenate(frames, axis=1)


def _random_sizes(seed: int):
    rng = np.random.default_rng(seed)
    while True:  # mostly small pieces, some large ones
        yield int(rng.integers(1, 400)) if rng.random() < 0.7 else int(rng.integers(400, 20000))


@pytest.mark.parametrize("name", list(CLIPS))
def test_streaming_equals_offline_exactly(native, clips, name):
    audio = clips[name]
    offline = native.log_mel_power(audio)
    for seed in (0, 1):
        np.testing.assert_array_equal(_stream(native, audio, _random_sizes(seed)), offline)
    np.testing.assert_array_equal(_stream(native, audio, [len(audio)]), offline)


def test_streaming_one_sample_pieces(native, clips):
    audio = clips["odd_length"]
    np.testing.assert_array_equal(_stream(native, audio, [1] * len(audio)), native.log_mel_power(audio))


def test_streaming_first_frames(native, clips):
    audio = clips["speech"]
    offline = native.log_mel_power(audio)
    stream = native.StreamingLogMel()
    stream.accept_waveform(audio[:200])
    assert stream.num_frames_ready == 0  # frame 0 mirrors samples 1..200: it needs sample 200
    stream.accept_waveform(audio[200:201])
    assert stream.num_frames_ready == 1
    np.testing.assert_array_equal(stream.get_frame(0), offline[:, 0])
    stream.accept_waveform(audio[201:359])
    assert stream.num_frames_ready == 1
    stream.accept_waveform(audio[359:360])
    assert stream.num_frames_ready == 2
    np.testing.assert_array_equal(stream.get_frames(), offline[:, :2])
    stream.pop(1)
    with pytest.raises(IndexError):
        stream.get_frame(0)
    stream.input_finished()
    with pytest.raises(RuntimeError, match="after InputFinished"):
        stream.accept_waveform(audio[:10])


def _stream_normalized(native, audio: np.ndarray, piece: int):
    """Normalise each frame with the running max at the time it is popped (a streaming consumer)."""
    stream = native.StreamingLogMel()
    out, running = [], []
    for pos in range(0, len(audio), piece):
        stream.accept_waveform(audio[pos:pos + piece])
        raw = stream.get_frames()
        normalized = stream.pop_frames(normalized=True)
        np.testing.assert_array_equal(normalized, features.normalize_log_mel(raw, max_value=stream.max_log_mel))
        out.append(normalized)
        running += [stream.max_log_mel] * normalized.shape[1]
    stream.input_finished()
    running += [stream.max_log_mel] * (stream.num_frames_ready - stream.num_frames_popped)
    out.append(stream.pop_frames(normalized=True))
    return np.concatenate(out, axis=1), np.array(running)


@pytest.mark.parametrize("name", ["speech", "crescendo", "long_70s"])
def test_streaming_clamp_with_running_max_is_bounded(native, clips, name):
    """0 <= offline - streaming <= (global max - running max) / 4, and 0 wherever x >= global max - 8."""
    if name == "crescendo":  # gets 60 dB louder: early frames are clamped with a much smaller max
        audio = clips["speech"] * np.geomspace(1e-3, 1.0, len(clips["speech"]), dtype=np.float32)
    else:
        audio = clips[name]
    power = native.log_mel_power(audio)
    offline = native.log_mel_spectrogram(audio)
    global_max = float(power.max())
    streamed, running = _stream_normalized(native, audio, piece=1600)
    diff = offline.astype(np.float64) - streamed
    bound = (global_max - running) / 4.0
    assert diff.min() >= 0.0
    assert (diff <= bound[None, :] + 1e-6).all()
    assert (diff[power >= global_max - 8.0] == 0.0).all()
    if name == "crescendo":
        assert diff.max() > 0.1  # the bound is not vacuous here
    # Re-normalising the kept unclamped frames with the final max gives the offline features exactly.
    np.testing.assert_array_equal(features.normalize_log_mel(_stream(native, audio, itertools.repeat(1600))), offline)


# --- backend selection and the C++ test -------------------------------------------------------------------


def _backend_in_subprocess(env_value: str | None) -> str:
    env = dict(os.environ)
    env.pop("QWEN_ASR_EDGE_NATIVE", None)
    if env_value is not None:
        env["QWEN_ASR_EDGE_NATIVE"] = env_value
    code = "from qwen_asr_edge import features as f; print(f.BACKEND, f.NATIVE_UNAVAILABLE_REASON)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return proc.stdout.strip()


def test_environment_forces_numpy():
    assert _backend_in_subprocess("0") == "numpy disabled by QWEN_ASR_EDGE_NATIVE=0"


def test_native_is_default_when_built(native):
    assert _backend_in_subprocess(None) == "native None"


@pytest.mark.parametrize("cap", ["avx2", "baseline"])
def test_native_simd_steps_give_the_same_bits(native, clips, cap, tmp_path):
    """The extension picks its widest SIMD step at run time (8, 4 or 2 frames per step); capping it with
    QWEN_ASR_EDGE_MAX_SIMD changes the speed, never a bit of the features."""
    audio = np.concatenate([clips["long_70s"], clips["clipping"], clips["odd_length"]])
    np.save(tmp_path / "audio.npy", audio)
    code = ("import sys, numpy as np; from qwen_asr_edge import _native; "
            "np.save(sys.argv[2], _native.log_mel_spectrogram(np.load(sys.argv[1]))); print(_native.log_mel_simd())")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "audio.npy"), str(tmp_path / "capped.npy")],
                          capture_output=True, text=True, check=True,
                          env={**os.environ, "QWEN_ASR_EDGE_MAX_SIMD": cap})
    capped = np.load(tmp_path / "capped.npy")
    if cap == "baseline":
        assert "2 frames per step" in proc.stdout
    assert np.array_equal(capped.view(np.uint32), native.log_mel_spectrogram(audio).view(np.uint32)), \
        f"{native.log_mel_simd()} vs {proc.stdout.strip()}"
