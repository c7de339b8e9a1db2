"""Rebuild a trainable checkpoint from an exported demo model directory (e.g. the bundled int8 models).

    python -m training.from_model_dir MODEL_DIR OUT_CKPT_DIR

The bundled demo models ship as ONNX graphs only; this turns one back into an official-layout checkpoint
(float32) so that training can continue from it (`train_aligner --init`, or fine-tuning on your data).
Quantized weights come back dequantized: 8-bit MatMulNBits blocks and the int8 token table share one
layout, (q - 128) x scale, read by the runtime's `EmbeddingTable`. Which graph constant is which parameter
is found without relying on names: a model of the same config with distinct random values is exported to
fp32 by this package's own exporter, and each of its constants is matched by value to the parameter it came
from (as is or transposed); the graphs of MODEL_DIR have the same structure, so their constants of the same
names carry the trained values. The config is the demo spec (`training.train_asr.DEMO_SPEC`, with the aligner head for aligners);
other sizes are refused.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from qwen_asr_edge.export.checkpoint import save_official_checkpoint
from qwen_asr_edge.export.config import parse_config
from qwen_asr_edge.export.exporter import export_checkpoint
from qwen_asr_edge.export.random_checkpoint import official_config, randomize, write_tokenizer
from qwen_asr_edge.export.reference_model import Qwen3ASR
from qwen_asr_edge.embedding import EmbeddingTable
from qwen_asr_edge.model_dir import ModelDirError

from .train_aligner import aligner_config
from .train_asr import DEMO_SPEC

QUANTIZED_SUFFIXES = ("_Q8", "_Q4")


def demo_config(kind: str) -> dict:
    config = official_config(DEMO_SPEC)
    config["thinker_config"]["dtype"] = "float32"
    return aligner_config(config) if kind == "aligner" else config


def graph_constants(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def matmul_nbits_node(model: onnx.ModelProto, weight: str) -> onnx.NodeProto:
    return next(n for n in model.graph.node if n.op_type == "MatMulNBits" and n.input[1] == weight)


def dequantized_constants(path: Path) -> dict[str, np.ndarray]:
    """The graph's constants, MatMulNBits weights dequantized back to [K, N] under their fp32 names."""
    model = onnx.load(str(path))
    constants = graph_constants(model)
    out = {}
    for name, value in constants.items():
        base = next((name[:-len(s)] for s in QUANTIZED_SUFFIXES if name.endswith(s)), None)
        if base is None:
            if not name.endswith("_scales"):
                out[name] = value
            continue
        node = matmul_nbits_node(model, name)
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if len(node.input) > 3 and node.input[3]:
            raise ModelDirError(f"{path}: {node.name} has zero points; only symmetric MatMulNBits is supported")
        bits, k, n = attrs["bits"], attrs["K"], attrs["N"]
        if bits != 8:
            raise ModelDirError(f"{path}: {node.name} is {bits}-bit; import an int8 or fp32 export")
        # 8-bit MatMulNBits weights are laid out as the int8 token table (runtime/embedding.py)
        rows = EmbeddingTable(value.reshape(n, -1), constants[node.input[2]].reshape(n, -1))
        out[base] = rows(np.arange(n))[:, :k].T.copy()
    return out


def parameter_of_constant(reference: dict[str, np.ndarray], params: dict[str, torch.Tensor]) -> dict[str, tuple[str, bool]]:
    """constant name -> (parameter name, transposed), by exact value (random values are distinct)."""
    by_bytes = {}
    for pname, p in params.items():
        a = p.detach().numpy()
        by_bytes[(a.shape, a.tobytes())] = (pname, False)
        if a.ndim == 2:
            by_bytes[(a.T.shape, np.ascontiguousarray(a.T).tobytes())] = (pname, True)
    mapping = {}
    for cname, value in reference.items():
        key = (value.shape, np.ascontiguousarray(value, dtype=np.float32).tobytes()) if value.dtype == np.float32 else None
        if key in by_bytes:
            mapping[cname] = by_bytes[key]
    return mapping


def import_model_dir(model_dir: Path, out_dir: Path) -> Path:
    manifest = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
    kind = manifest["kind"]
    config = demo_config(kind)
    model = Qwen3ASR(parse_config(config))
    spec_sizes = (model.cfg.text.hidden_size, model.cfg.text.num_hidden_layers, model.cfg.audio.d_model)
    m = manifest["model"]
    if (m["hidden_size"], m["num_layers"], m["encoder_d_model"]) != spec_sizes:
        raise ModelDirError(f"{model_dir}: not a model of the demo size {spec_sizes}")
    randomize(model, torch.Generator().manual_seed(0))
    params = dict(model.named_parameters())
    graph_params = {k: v for k, v in params.items() if k != "model.embed_tokens.weight"}  # a tied head is this table
    trained: dict[str, torch.Tensor] = {}
    with tempfile.TemporaryDirectory() as tmp:
        ckpt, reference_dir = Path(tmp) / "ckpt", Path(tmp) / "fp32"
        save_official_checkpoint(model, config, ckpt, dtype=torch.float32, store_tied_head=False)
        write_tokenizer(ckpt)
        export_checkpoint(ckpt, reference_dir, log=lambda msg: None)
        for graph in manifest["graphs"].values():
            mapping = parameter_of_constant(graph_constants(onnx.load(str(reference_dir / graph["file"]))),
                                            graph_params)
            values = dequantized_constants(model_dir / graph["file"])
            for cname, (pname, transposed) in mapping.items():
                if cname not in values:
                    raise ModelDirError(f"{model_dir / graph['file']}: no constant {cname}; exported by another version?")
                value = torch.from_numpy(np.array(values[cname].T if transposed else values[cname]))
                trained[pname] = value.reshape(params[pname].shape)
    table = EmbeddingTable.load(model_dir, manifest["embed_tokens"])
    trained["model.embed_tokens.weight"] = torch.from_numpy(table(np.arange(table.shape[0])))
    missing = sorted(set(params) - set(trained))
    if missing:
        raise ModelDirError(f"{model_dir}: no graph constant found for {', '.join(missing)}")
    with torch.no_grad():
        for pname, value in trained.items():
            params[pname].copy_(value)
    save_official_checkpoint(model, config, out_dir, dtype=torch.float32, store_tied_head=False)
    write_tokenizer(out_dir)
    return out_dir


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    print(import_model_dir(args.model_dir, args.out))


if __name__ == "__main__":
    sys.exit(main())
