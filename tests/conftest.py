"""Session fixtures: a random-weight tiny model exported once per test session; the native extension."""
import os
from pathlib import Path

import pytest

from .fixtures import write_clip


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny random-weight checkpoint (our own writer, official layout) exported with default settings."""
    from qwen_asr_edge.export import export_checkpoint
    from qwen_asr_edge.export.random_checkpoint import write_random_checkpoint

    root = tmp_path_factory.mktemp("tiny")
    ckpt = write_random_checkpoint(root / "ckpt", "tiny", seed=1)
    return export_checkpoint(ckpt, root / "model", log=lambda msg: None)


@pytest.fixture(scope="session")
def mixed_clips(tmp_path_factory) -> Path:
    """A folder of clips in several containers, rates and channel counts."""
    folder = tmp_path_factory.mktemp("clips")
    write_clip(folder / "a_16k.wav", 2.2, seed=1)
    write_clip(folder / "b_16k.flac", 1.3, seed=2)
    write_clip(folder / "c_44k_stereo.wav", 3.1, seed=3, rate=44100, channels=2)
    write_clip(folder / "d_8k_int16.wav", 1.7, seed=4, rate=8000, subtype="PCM_16")
    write_clip(folder / "e_48k.ogg", 1.1, seed=5, rate=48000)
    return folder


@pytest.fixture(scope="session")
def native():
    """qwen_asr_edge._native; skips the test when it is not built (fails with QWEN_ASR_EDGE_REQUIRE_NATIVE=1)."""
    from qwen_asr_edge._native_loader import native_module, native_unavailable_reason

    module = native_module()
    if module is None:
        reason = f"C++ extension qwen_asr_edge._native unavailable: {native_unavailable_reason()}"
        if os.environ.get("QWEN_ASR_EDGE_REQUIRE_NATIVE") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return module
