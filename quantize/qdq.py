"""Static QDQ quantization for NPUs: 16-bit activations, 8-bit weights, calibrated on real inputs.

Calibration runs the fp32 model on the calibration audio while every graph's inputs are recorded, so the
ranges come from exactly what the runtime feeds (mel chunks, attention windows, prefill and decode-step
decoder inputs with real KV caches). ONNX Runtime's static quantizer then puts QuantizeLinear /
DequantizeLinear pairs (com.microsoft 16-bit Q/DQ, the graphs being opset 18 or 20) around MatMul, Gemm and Conv
only, with min/max ranges; mask, RoPE and norm arithmetic stay float (quantizing every op broke the dynamic
decoder outright: the -inf mask and zero-length caches have no usable range). Static NPU graphs (export
--static) have neither, so there every op is quantized, as the QNN HTP needs. The decoder's head gets its own
8-bit weight inside the graph (an NPU needs it there); the host keeps the fp32 table for lookups.
"""
from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize, quantize_static
from onnxruntime.quantization.execution_providers.qnn import get_qnn_qdq_config

from qwen_asr_edge.model_dir import DECODER, DECODER_PREFILL, ENCODER_CONV, ENCODER_TRANSFORMER
from qwen_asr_edge.transcriber import Transcriber

QDQ_OPS = ["MatMul", "Gemm", "Conv"]
MAX_FEEDS = 48  # per graph: decoder feeds carry whole KV caches (34 MB each for 0.6B at 150 tokens)


class _RecordingSession:
    """Stands in for an InferenceSession: runs it and keeps a copy of every feed."""

    def __init__(self, session):
        self.session, self.feeds = session, []

    def run(self, output_names, feeds):
        self.feeds.append({name: np.array(value) for name, value in feeds.items()})
        return self.session.run(output_names, feeds)


def collect_calibration_feeds(fp32_dir: Path, audio: Iterable[str], log: Callable[[str], None]) -> dict[str, list[dict]]:
    """Each graph's real inputs while the fp32 model transcribes `audio` (at most MAX_FEEDS per graph,
    evenly spaced, the first ones (prefills) always kept)."""
    asr = Transcriber(fp32_dir)
    holders = [(asr.encoder, "conv", ENCODER_CONV), (asr.encoder, "transformer", ENCODER_TRANSFORMER)]
    if asr.model_dir.static is None:
        holders.append((asr.decoder, "session", DECODER))
    else:
        holders += [(asr.decoder, "step", DECODER), (asr.decoder, "prefill", DECODER_PREFILL)]
    recorders = {}
    for holder, attribute, name in holders:
        recorders[name] = _RecordingSession(getattr(holder, attribute))
        setattr(holder, attribute, recorders[name])
    for path in audio:
        log(f"calibration: {path}: {asr.transcribe(path).text}")
    feeds = {}
    for name, recorder in recorders.items():
        picks = np.unique(np.linspace(0, len(recorder.feeds) - 1, min(MAX_FEEDS, len(recorder.feeds))).astype(int))
        feeds[name] = [recorder.feeds[i] for i in picks]
    return feeds


class _FeedReader(CalibrationDataReader):
    def __init__(self, feeds: list[dict]):
        self._feeds = iter(feeds)

    def get_next(self) -> dict | None:
        return next(self._feeds, None)


def apply_qdq(work: Path, graph_files: dict[str, str], feeds: dict[str, list[dict]], log: Callable[[str], None],
              every_op: bool = False) -> None:
    """Replace each graph in `work` by its a16w8 QDQ version calibrated on `feeds[graph]`: Q/DQ around
    QDQ_OPS only, or, with `every_op` (static NPU graphs, whose masks are finite and tensors non-empty),
    around every op as ONNX Runtime's QNN configuration places them, so that the whole graph runs on HTP."""
    for name, file in graph_files.items():
        t0 = time.time()
        staging = work / "qdq-staging"
        staging.mkdir()
        big = (work / f"{file}.data").exists()
        root = logging.getLogger()  # the quantizer's advice (pre-processing, opset) goes to the root logger
        level = root.level
        root.setLevel(logging.ERROR)
        try:
            if every_op:
                config = get_qnn_qdq_config(str(work / file), _FeedReader(feeds[name]),
                                            activation_type=QuantType.QUInt16, weight_type=QuantType.QUInt8)
                config.use_external_data_format = big
                quantize(str(work / file), str(staging / file), config)
            else:
                quantize_static(str(work / file), str(staging / file), _FeedReader(feeds[name]),
                                quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt16,
                                weight_type=QuantType.QUInt8, op_types_to_quantize=QDQ_OPS,
                                use_external_data_format=big, extra_options={"UseQDQContribOps": True})
        finally:
            root.setLevel(level)
        (work / f"{file}.data").unlink(missing_ok=True)
        for produced in staging.iterdir():
            produced.replace(work / produced.name)
        shutil.rmtree(staging)
        log(f"quantized {name} to QDQ (uint16 activations, uint8 weights) on {len(feeds[name])} inputs "
            f"in {time.time() - t0:.1f} s")
