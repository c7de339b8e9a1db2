"""The bundled demo model (runtime/models/asr) against the ground truth of the bundled samples."""
import json

from qwen_asr_edge.cli import main
from qwen_asr_edge.transcriber import bundled_model_dir

from .fixtures import REPO

# What was synthesized (samples/README.md); voices and sentences never seen in training.
SAMPLES = {
    "en_office_temperature.wav": ("English", "set the office temperature to twenty four degrees"),
    "zh_timer.wav": ("Chinese", "设置一个六十三分钟的定时器"),
}


def test_bundled_model_transcribes_the_samples(capsys):
    assert bundled_model_dir() is not None
    paths = [str(REPO / "samples" / name) for name in SAMPLES]
    assert main(["transcribe", *paths, "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert "using the bundled demo asr model" in captured.err
    records = [json.loads(line) for line in captured.out.splitlines()]
    assert {r["path"].rsplit("/", 1)[-1]: (r["language"], r["text"]) for r in records} == SAMPLES
