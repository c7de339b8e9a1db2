"""training.from_model_dir: an exported int8 demo model back to a checkpoint. The reference is the bundled
model itself: exporting and quantizing the recovered checkpoint with the same recipe must give back every
weight and the token table exactly (int8 blocks round-trip only if the dequantized values, the parameter
each constant belongs to, and its orientation are all right). Only int64 constants (shapes, axes, slice
bounds) may differ: graph fusions added since the bundled model was quantized rename those."""
import json

import numpy as np
import onnx

from qwen_asr_edge.cli import main as cli
from qwen_asr_edge.transcriber import bundled_model_dir
from training.from_model_dir import graph_constants, import_model_dir


def constants(path):
    return graph_constants(onnx.load(str(path)))


def weight_names(named: dict) -> set[str]:
    """The constants that hold parameters, not shapes or indices."""
    return {name for name, value in named.items() if value.dtype != np.int64}


def test_bundled_aligner_round_trips_through_a_checkpoint(tmp_path):
    bundled = bundled_model_dir("aligner")
    ckpt = import_model_dir(bundled, tmp_path / "ckpt")
    assert cli(["export", str(ckpt), str(tmp_path / "fp32")]) == 0
    assert cli(["quantize", str(tmp_path / "fp32"), str(tmp_path / "int8"), "--quant", "int8"]) == 0
    manifest = json.loads((bundled / "manifest.json").read_text())
    for graph in manifest["graphs"].values():
        ours, shipped = constants(tmp_path / "int8" / graph["file"]), constants(bundled / graph["file"])
        assert weight_names(ours) == weight_names(shipped)
        for name in ours.keys() & shipped.keys():
            np.testing.assert_array_equal(ours[name], shipped[name], err_msg=f"{graph['file']}: {name}")
    for file in ("embed_tokens.q8.npy", "embed_tokens.scales.npy"):
        assert (tmp_path / "int8" / file).read_bytes() == (bundled / file).read_bytes()
