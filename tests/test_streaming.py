"""Streaming: the chunked-cache `Stream` against the official `streaming_transcribe` (random-weight checkpoints
built with the official classes, tests/reference/official_streaming.py), against the official algorithm run on
our own graphs (`ReencodeStream`, on the bundled trained model), and its audio side against the offline encoder.
"""
from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest

from benchmarks.streaming import ReencodeStream, same_work_growth, speech_with_pauses
from qwen_asr_edge import Transcriber
from qwen_asr_edge.audio import load_audio
from qwen_asr_edge.export import export_checkpoint
from qwen_asr_edge.features import SAMPLE_RATE, log_mel_spectrogram
from qwen_asr_edge.streaming import Stream, StreamOptions
from qwen_asr_edge.streaming_encoder import StreamingEncoder
from qwen_asr_edge.transcriber import bundled_model_dir

from .fixtures import REFERENCE_DIR, REPO, cached_dir, digest, run_reference, synth_clip, write_clip
from .test_parity import official_checkpoint

SCRIPT = REFERENCE_DIR / "official_streaming.py"
MAX_NEW_TOKENS = 8
PIECE_SECONDS = 0.37
NEAR_TIE = 1e-4  # relative top-1/top-2 margin under which float rounding may flip the argmax
UNSEGMENTED = StreamOptions(max_new_tokens=MAX_NEW_TOKENS, segment_pause=None)
EN, ZH = "set the office temperature to twenty four degrees", "设置一个六十三分钟的定时器"  # the samples' truth
CYCLE_SECONDS = 5.31325 + 1 + 7.29625 + 1  # speech_with_pauses: English sample, pause, Chinese sample, pause
REQUESTS = {"plain": ("", None), "context-english": ("Kitchen lights, HelloWorld and McDonald's.", "English")}


def feed_in_pieces(stream: Stream, audio: np.ndarray, piece_seconds: float = PIECE_SECONDS):
    piece = int(round(piece_seconds * SAMPLE_RATE))
    for i in range(0, len(audio), piece):
        stream.feed(audio[i:i + piece])
    return stream.finish()


def official_stream(ckpt: Path, clip: Path, request: str) -> dict:
    context, language = REQUESTS[request]
    args = ["--audio", clip, "--max-new-tokens", MAX_NEW_TOKENS, "--piece-seconds", PIECE_SECONDS, "--context", context]
    if language:
        args += ["--language", language]

    def build(out: Path) -> None:
        run_reference("official_streaming.py", ckpt, out / "stream.json", *args)

    out = cached_dir("goldens/streaming", digest(SCRIPT, ckpt.name, clip, *map(str, args)), build)
    return json.loads((out / "stream.json").read_text())["clips"][0]


def agreeing_chunks(ours: list, reference: list[dict]) -> int:
    """Chunks whose segment, prefix, tokens and raw text are identical, up to the first divergence, which must
    be a near tie of the reference's logits (after it, the two streams see different prefixes)."""
    assert len(ours) == len(reference)
    for n, (a, b) in enumerate(zip(ours, reference)):
        assert (a.final, a.prefix, a.segment) == (b["final"], b["prefix"], b.get("segment", a.segment)), f"chunk {n}"
        if list(a.tokens) != b["tokens"]:
            step = next(i for i, (x, y) in enumerate(zip([*a.tokens, None], [*b["tokens"], None])) if x != y)
            assert b["margins"][step] < NEAR_TIE, f"chunk {n} step {step}: margin {b['margins'][step]}"
            return n
        assert a.raw == b["raw"], f"chunk {n}"
    return len(ours)


@pytest.fixture(scope="module", params=["tiny-a", "tiny-b"])
def official_pair(request, tmp_path_factory):
    ckpt = official_checkpoint(request.param)
    model = export_checkpoint(ckpt, tmp_path_factory.mktemp(request.param) / "fp32", log=lambda m: None)
    return ckpt, Transcriber(model)


@pytest.mark.parametrize("seconds,request_name", [(10.0, "plain"), (60.0, "plain"), (10.0, "context-english")])
def test_stream_equals_official_streaming(official_pair, tmp_path, seconds, request_name):
    ckpt, asr = official_pair
    clip = write_clip(tmp_path / f"stream{seconds:g}.wav", seconds, seed=int(seconds) + 3)
    official = official_stream(ckpt, clip, request_name)
    context, language = REQUESTS[request_name]
    chunks = []
    final = feed_in_pieces(asr.stream(context, language, options=UNSEGMENTED, on_chunk=chunks.append), load_audio(clip))
    agreed = agreeing_chunks(chunks, official["chunks"])
    assert agreed >= len(chunks) // 2, f"only {agreed} of {len(chunks)} chunks before a near tie"
    if agreed == len(chunks):
        assert (final.language, final.text) == (official["language"], official["text"])
    assert len({c.tokens for c in chunks}) > len(chunks) // 2, "chunks must differ (discriminating weights)"


@pytest.fixture(scope="module")
def bundled() -> Transcriber:
    return Transcriber(bundled_model_dir(), threads=2)


@pytest.fixture(scope="module")
def bundled_fp32() -> Transcriber:
    """The bundled model's weights (dequantized: training.from_model_dir) exported at fp32, cached under CACHE:
    its int8 encoder quantizes activations, so a 1e-7 difference between two paths can move a rounding step
    and the logits by 1e-2; at fp32 the chunked-cache and re-encoding logits agree to about 1e-6."""
    from training.from_model_dir import import_model_dir

    bundled_dir = bundled_model_dir()
    sources = sorted([*(REPO / "export").glob("*.py"), REPO / "training" / "from_model_dir.py"])

    def build(out: Path) -> None:
        export_checkpoint(import_model_dir(bundled_dir, out / "ckpt"), out / "fp32", log=lambda m: None)

    key = digest(*sorted(bundled_dir.iterdir()), *sources, version("torch"), version("onnx"))
    return Transcriber(cached_dir("models/bundled-asr-fp32", key, build) / "fp32", threads=2)


@pytest.mark.parametrize("options", [UNSEGMENTED, StreamOptions()], ids=["one-segment", "segments"])
def test_chunked_cache_equals_reencoding_on_the_trained_model(bundled_fp32, options):
    """The official algorithm (everything recomputed every chunk) on the same graphs gives the same chunks, up
    to a near tie (a one-row decode step and a many-row prefill round differently); 24 s of speech with pauses
    spans 3 encoder windows, so kept windows and K/V are exercised."""
    audio = speech_with_pauses(24.0)
    ours, reference = [], []
    feed_in_pieces(Stream(bundled_fp32, options=options, on_chunk=ours.append), audio)
    reencoding = ReencodeStream(bundled_fp32, options=options, on_chunk=reference.append)
    feed_in_pieces(reencoding, audio)
    records = [{"final": c.final, "prefix": c.prefix, "segment": c.segment, "tokens": list(c.tokens), "raw": c.raw,
                "margins": margins} for c, margins in zip(reference, reencoding.margins, strict=True)]
    agreed = agreeing_chunks(ours, records)
    assert agreed >= len(ours) * 2 // 3, f"only {agreed} of {len(ours)} chunks before a near tie"
    assert max(c.prefilled for c in ours) < max(c.prefilled for c in reference)
    if options.segment_pause is not None:
        assert ours[-1].segment >= 3  # cut at the pauses between utterances


def test_segmented_stream_transcribes_every_utterance(bundled):
    audio = speech_with_pauses(2 * CYCLE_SECONDS)
    final = feed_in_pieces(bundled.stream(), audio, 0.1)
    assert final.final and final.partial_text == ""
    assert final.text == (EN + ZH) * 2 and final.language == "English,Chinese,English,Chinese"


def test_fixed_text_only_grows_and_partial_completes_it(bundled):
    audio = load_audio(REPO / "samples" / "en_office_temperature.wav")
    stream = bundled.stream(options=StreamOptions(chunk_seconds=0.5, segment_pause=None))
    updates = [stream.feed(audio[i:i + 4000]) for i in range(0, len(audio), 4000)] + [stream.finish()]
    for before, after in zip(updates, updates[1:]):
        assert after.text.startswith(before.fixed_text) or after.chunks == before.chunks
    assert updates[-1].text == bundled.transcribe(audio, sample_rate=SAMPLE_RATE).text


def test_int16_and_other_rates_are_accepted(bundled):
    import soxr
    audio = load_audio(REPO / "samples" / "zh_timer.wav")
    as_int16 = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
    a = feed_in_pieces(bundled.stream(language="zh"), as_int16)
    b = feed_in_pieces(bundled.stream(language="zh"), as_int16.astype(np.float32) / 32768.0)
    assert a == b and a.language == "Chinese"
    at_8k = soxr.resample(audio, SAMPLE_RATE, 8000)
    c = feed_in_pieces(bundled.stream(sample_rate=8000), at_8k)
    assert c.text == bundled.transcribe(at_8k, sample_rate=8000).text


def test_bad_stream_input_gets_a_clear_error(bundled):
    from qwen_asr_edge.errors import QwenAsrEdgeError
    stream = bundled.stream()
    with pytest.raises(QwenAsrEdgeError, match="NaN"):
        stream.feed(np.array([0.0, np.nan], dtype=np.float32))
    stream.finish()
    with pytest.raises(QwenAsrEdgeError, match="after finish"):
        stream.feed(np.zeros(10, dtype=np.float32))
    with pytest.raises(QwenAsrEdgeError, match="language"):
        bundled.stream(language="Klingon")
    assert bundled.stream().finish().text == ""  # nothing fed: nothing to say


@pytest.mark.parametrize("pieces", [[32000] * 12, [7919] * 50], ids=["2s", "odd"])
def test_streaming_encoder_equals_offline_encoder(tiny_model, pieces):
    """After every piece: the embeddings equal the offline encoder's on all audio so far (the clamp too: the
    loud event at 15 s raises the max - 8 floor, digital silence at 3 s lies below it), and nothing before
    `first_changed` moved. fp32 (an int8 encoder quantizes its activations: a 1e-7 difference between batch
    sizes of the conv stem can flip a rounding step there)."""
    asr = Transcriber(tiny_model)
    audio = synth_clip(24.0, seed=5)
    audio[3 * SAMPLE_RATE:int(3.5 * SAMPLE_RATE)] = 0.0
    audio[15 * SAMPLE_RATE:int(15.2 * SAMPLE_RATE)] *= 3.9
    encoder = StreamingEncoder(asr.encoder)
    position, previous, floors = 0, None, set()
    for size in pieces:
        first_changed = encoder.extend(audio[position:position + size])
        position += size
        got = encoder.embeddings(0)
        expected = asr.encoder(log_mel_spectrogram(audio[:position]))
        assert got.shape == expected.shape
        assert np.abs(got - expected).max() <= 1e-5 * np.abs(expected).max()
        if previous is not None:
            np.testing.assert_array_equal(got[:first_changed], previous[:first_changed])
        previous = got
        floors.add(encoder.floor)
        if position >= len(audio):
            break
    assert len(floors) > 2


def test_stream_cli_reads_pcm_from_stdin(tmp_path):
    audio = np.concatenate([load_audio(REPO / "samples" / "en_office_temperature.wav"), np.zeros(SAMPLE_RATE, np.float32),
                            load_audio(REPO / "samples" / "zh_timer.wav")])
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
    proc = subprocess.run([sys.executable, "-m", "qwen_asr_edge", "transcribe", "--stream", "-", "-f", "json"],
                          input=pcm, capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    lines = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert lines == [{"language": "English", "text": EN}, {"language": "Chinese", "text": ZH}]


def test_stream_cli_file_lines_when_piped(tmp_path):
    clip = tmp_path / "two.wav"
    import soundfile as sf
    sf.write(str(clip), speech_with_pauses(CYCLE_SECONDS), SAMPLE_RATE)
    proc = subprocess.run([sys.executable, "-m", "qwen_asr_edge", "transcribe", "--stream", str(clip)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [EN, ZH]


TRAINED_CHECKPOINT = Path.home() / ".cache" / "qwen-asr-edge" / "models" / "demo-asr"


@pytest.mark.slow
def test_stream_equals_official_streaming_on_the_trained_model(tmp_path):
    """The demo model's training checkpoint (official layout; README "Training" rebuilds it) through the
    official streaming functions and through ours (fp32 export), 30 s of speech with pauses, one segment."""
    if not (TRAINED_CHECKPOINT / "model.safetensors").is_file():
        pytest.skip(f"no trained checkpoint at {TRAINED_CHECKPOINT}: train it as the README says")
    import soundfile as sf
    clip = tmp_path / "speech.wav"
    sf.write(str(clip), speech_with_pauses(2 * CYCLE_SECONDS), SAMPLE_RATE, subtype="FLOAT")
    asr = Transcriber(export_checkpoint(TRAINED_CHECKPOINT, tmp_path / "fp32", log=lambda m: None))
    official = json.loads(_official_run(TRAINED_CHECKPOINT, clip, tmp_path / "official.json"))["clips"][0]
    chunks = []
    final = feed_in_pieces(asr.stream(options=StreamOptions(segment_pause=None, max_new_tokens=32),
                                      on_chunk=chunks.append), load_audio(clip))
    assert agreeing_chunks(chunks, official["chunks"]) == len(chunks)
    assert (final.language, final.text) == (official["language"], official["text"])


def _official_run(trained: Path, clip: Path, out: Path) -> str:
    ckpt = out.with_name("ckpt")
    ckpt.mkdir()
    for item in trained.iterdir():
        (ckpt / item.name).symlink_to(item)
    run_reference("official_model.py", "processor-files", ckpt)
    run_reference("official_streaming.py", ckpt, out, "--audio", clip, "--max-new-tokens", 32,
                  "--piece-seconds", PIECE_SECONDS)
    return out.read_text()


def test_same_work_growth_fits_only_the_chunks_doing_chunk_5s_work():
    """The streaming benchmark's growth figure: times on an exact line within one phase give the line's ratio,
    whatever the other phases cost."""
    prefilled = [41, 58, 87, 116] * 40
    seconds = [0.5 + 0.001 * i if n == 87 else 9.0 * (i % 3) for i, n in enumerate(prefilled)]
    growth, fitted = same_work_growth(seconds, prefilled, 6, 146)
    assert fitted == 40 and abs(growth - (0.5 + 0.146) / (0.5 + 0.006)) < 1e-9
