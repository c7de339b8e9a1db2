"""Full-size Qwen3-ASR-0.6B configuration (random weights, official layout): exports and transcribes.
Slow (about 5 minutes and 9 GB of RAM for the export): run with `./scripts/test.sh -m slow`."""
import resource
import time

import pytest

from qwen_asr_edge import Transcriber
from qwen_asr_edge.export import export_checkpoint
from qwen_asr_edge.export.random_checkpoint import write_random_checkpoint

from .fixtures import REPO

pytestmark = pytest.mark.slow


def test_full_size_exports_and_transcribes(tmp_path):
    ckpt = write_random_checkpoint(tmp_path / "ckpt", "full-0.6b")
    started = time.time()
    model_dir = export_checkpoint(ckpt, tmp_path / "model", log=print)
    export_seconds = time.time() - started
    assert (model_dir / "decoder.onnx.data").is_file()  # past EXTERNAL_DATA_BYTES: weights kept outside the protobuf
    asr = Transcriber(model_dir, max_new_tokens=16)
    started = time.time()
    result = asr.transcribe(REPO / "samples" / "en_office_temperature.wav")
    size = sum(f.stat().st_size for f in model_dir.iterdir())
    print(f"export {export_seconds:.0f} s, model {size / 1e9:.2f} GB, transcription {time.time() - started:.1f} s, "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.1f} GB")
    assert len(result.tokens) == 16
