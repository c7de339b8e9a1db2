"""Build script: maps the top-level folders into the one import package `qwen_asr_edge`.

runtime/  -> qwen_asr_edge           (what a device needs; numpy, onnxruntime, soundfile, tokenizers)
export/   -> qwen_asr_edge.export    (checkpoint -> ONNX; needs the [export] extra: torch, onnx, ...)
quantize/ -> qwen_asr_edge.quantize  (weight quantization passes over exported graphs)
"""
from setuptools import setup

setup(
    packages=["qwen_asr_edge", "qwen_asr_edge.export", "qwen_asr_edge.quantize"],
    package_dir={
        "qwen_asr_edge": "runtime",
        "qwen_asr_edge.export": "export",
        "qwen_asr_edge.quantize": "quantize",
    },
)
