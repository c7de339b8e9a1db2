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


def test_bundled_aligner_against_the_exact_word_times():
    """samples/words.json holds the synthesizer's exact word boundaries. The demo aligner's AAS is 57 ms on
    the held-out set (README) and 73 / 59 ms on these two clips (the one before it: 75 / 81 ms); this guards
    against regressions, e.g. a misplaced slot or offset would put words seconds away."""
    from qwen_asr_edge.aligner import Aligner
    truth = json.loads((REPO / "samples" / "words.json").read_text())
    aligner = Aligner(bundled_model_dir("aligner"))
    for name, record in truth.items():
        words = aligner.align(str(REPO / "samples" / name), record["text"], record["language"])
        assert [w.text for w in words] == [t["text"] for t in record["words"]]
        errors = [abs(w.start - t["start"]) + abs(w.end - t["end"]) for w, t in zip(words, record["words"])]
        assert sum(errors) / (2 * len(errors)) <= 0.10, name
        assert all(a.end <= b.start + 1e-9 for a, b in zip(words, words[1:]))


def test_bundled_models_run_on_a_real_human_recording(capsys):
    """CMU Arctic's arctic_a0007.wav (from the pysptk sdist on PyPI; scripts/test.sh fetches it before the
    run) through the CLI with word timestamps. The domain is narrow, so the words are not checked (the
    README reports what the model says); what must hold: one record, the file's real duration, a supported
    language, a non-empty transcript whose aligned words are the transcript's words, in order, inside the
    audio."""
    from benchmarks.real_speech import fetch_arctic_recording
    from qwen_asr_edge.words import split_words
    wav = fetch_arctic_recording()
    assert main(["transcribe", str(wav), "--timestamps", "--format", "json"]) == 0
    (record,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert abs(record["duration"] - 4.0) < 1e-6
    assert record["language"] in ("English", "Chinese") and record["text"]
    words = record["words"]
    assert [w["text"] for w in words] == split_words(record["text"], record["language"])
    times = [t for w in words for t in (w["start"], w["end"])]
    assert times == sorted(times) and 0.0 <= times[0] and times[-1] <= record["duration"]
