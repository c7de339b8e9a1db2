"""Static-shape NPU graphs (`export --static`): equal to the dynamic graphs on the CPU, really static, and, as
a16w8 QDQ, taken whole by QNN's HTP backend (emulated on x86 by the onnxruntime-qnn wheel).

Reference: the dynamic fp32 export of the same random checkpoint, itself checked against the official
implementation in test_parity.py.
"""
import numpy as np
import onnx
import pytest

from qwen_asr_edge.audio import load_audio
from qwen_asr_edge.decoding import greedy_decode
from qwen_asr_edge.errors import InputError
from qwen_asr_edge.features import log_mel_spectrogram
from qwen_asr_edge.model_dir import open_model_dir
from qwen_asr_edge.transcriber import Transcriber

from .fixtures import REPO

SAMPLES = [REPO / "samples" / "en_office_temperature.wav", REPO / "samples" / "zh_timer.wav"]
NOT_FOR_NPUS = {"If", "Loop", "Scan", "Expand", "Reciprocal", "Erf", "Range", "Shape", "ConstantOfShape", "NonZero"}


@pytest.fixture(scope="module")
def static_model(tiny_model, tmp_path_factory):
    from qwen_asr_edge.export import export_checkpoint
    return export_checkpoint(tiny_model.parent / "ckpt", tmp_path_factory.mktemp("static") / "model", static=True,
                             log=lambda msg: None)


@pytest.fixture(scope="module")
def qdq_model(static_model, tmp_path_factory):
    from qwen_asr_edge.quantize.pipeline import quantize_model_dir
    return quantize_model_dir(static_model, tmp_path_factory.mktemp("qdq") / "model", "qdq",
                              calibration=[str(p) for p in SAMPLES], log=lambda msg: None)


def test_static_graphs_have_only_fixed_shapes_and_npu_ops(static_model):
    model = open_model_dir(static_model)
    for name, meta in model.manifest["graphs"].items():
        graph = onnx.load(str(static_model / meta["file"]), load_external_data=False).graph
        for value in [*graph.input, *graph.output]:
            dims = value.type.tensor_type.shape.dim
            assert all(d.HasField("dim_value") and d.dim_value > 0 for d in dims), (name, value.name)
        assert not {node.op_type for node in graph.node} & NOT_FOR_NPUS, name


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_static_graphs_decode_like_the_dynamic_ones(tiny_model, static_model, sample):
    dynamic, static = Transcriber(tiny_model), Transcriber(static_model)
    audio = load_audio(sample)
    expected, got = dynamic.generate(audio, keep_logits=True), static.generate(audio, keep_logits=True)
    assert got.tokens == expected.tokens
    for want, have in zip(expected.logits, got.logits):
        np.testing.assert_allclose(have, want, atol=1e-4 * max(1.0, np.abs(want).max()))


def test_static_graphs_stream_and_beam_like_the_dynamic_ones(tiny_model, static_model):
    audio = load_audio(SAMPLES[0])
    results = []
    for model in (tiny_model, static_model):
        stream = Transcriber(model).stream()
        for start in range(0, len(audio), 16000):
            stream.feed(audio[start:start + 16000])
        beam = Transcriber(model, beam=3, max_new_tokens=12).generate(audio)
        results.append((stream.finish().text, beam.tokens))
    assert results[1] == results[0]


def test_a_prompt_beyond_the_kv_capacity_is_a_clear_error(static_model):
    asr = Transcriber(static_model)
    asr.decoder.capacity = 40
    with pytest.raises(InputError, match="cache slots"):
        asr.generate(load_audio(SAMPLES[0]))


def test_static_export_refuses_quantized_presets(tiny_model, tmp_path):
    from qwen_asr_edge.export import export_checkpoint
    with pytest.raises(InputError, match="quant qdq"):
        export_checkpoint(tiny_model.parent / "ckpt", tmp_path / "out", quant="int8", static=True)
    assert not (tmp_path / "out").exists()


def test_unusable_providers_fall_back_to_the_cpu_with_a_notice(tiny_model, capsys):
    asr = Transcriber(tiny_model, provider="nnapi")
    assert asr.provider == "cpu"
    assert "NnapiExecutionProvider" in capsys.readouterr().err
    asr = Transcriber(tiny_model, provider="qnn")  # dynamic shapes: never for QNN
    assert asr.provider == "cpu"
    assert "notice:" in capsys.readouterr().err


@pytest.fixture(scope="module")
def qnn():
    from qwen_asr_edge.sessions import qnn_devices
    if qnn_devices() is None:
        pytest.skip("onnxruntime-qnn is not installed")


def test_every_qdq_graph_runs_whole_on_the_htp(qnn, qdq_model):
    from qwen_asr_edge.sessions import make_session
    model = open_model_dir(qdq_model)
    assert model.manifest["quantization"]["ops"] == "all"
    for name in model.manifest["graphs"]:
        make_session(model.graph(name), provider="qnn", strict=True)  # raises if any node would need the CPU


def test_htp_logits_follow_the_cpu_qdq_logits(qnn, qdq_model):
    """Emulated HTP integer kernels against ONNX Runtime's CPU QDQ arithmetic, along the CPU's own tokens
    (teacher forcing), on 3 s of a sample: a few steps only, emulation takes about 2 s per graph call."""
    cpu, htp = Transcriber(qdq_model, max_new_tokens=4), Transcriber(qdq_model, provider="qnn")
    assert htp.provider == "qnn"
    audio = load_audio(SAMPLES[0])[:48000]
    expected = cpu.generate(audio, keep_logits=True)
    _, prompt = htp.prompt_embeds(htp.encoder(log_mel_spectrogram(audio)))
    got = greedy_decode(htp.decoder, prompt, htp.eos_ids, 4, keep_logits=True, forced=expected.tokens)
    for want, have in zip(expected.logits, got.logits):
        assert np.abs(have - want).max() <= 0.25 * np.abs(want).max()
