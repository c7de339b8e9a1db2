"""Build script: maps the top-level folders into the one import package `qwen_asr_edge`.

runtime/  -> qwen_asr_edge           (what a device needs; numpy, onnxruntime, soundfile, tokenizers)
export/   -> qwen_asr_edge.export    (checkpoint -> ONNX; needs the [export] extra: torch, onnx, ...)
quantize/ -> qwen_asr_edge.quantize  (weight quantization passes over exported graphs)
cpp_ext/  -> qwen_asr_edge._native   (optional C++ extension: log-mel features; pybind11)

The extension is optional: without a C++ compiler the build prints a warning and installs the pure-Python
package, whose numpy code computes the same features (see runtime/features.py).
"""
import sys
from glob import glob

from setuptools import setup

try:
    from pybind11.setup_helpers import Pybind11Extension, build_ext
except ImportError:  # pybind11 is a build requirement; only a non-isolated build can lack it
    Pybind11Extension = build_ext = None


def native_extension():
    sources = sorted(glob("cpp_ext/core/*.cc")) + sorted(glob("cpp_ext/python/*.cc"))
    headers = sorted(glob("cpp_ext/core/*.h")) + sorted(glob("cpp_ext/python/*.h"))
    # -ffp-contract=off: no fused multiply-add, so ARM gives the same features as x86.
    flags = [] if sys.platform == "win32" else ["-O3", "-ffp-contract=off", "-fno-wrapv"]
    return Pybind11Extension(
        "qwen_asr_edge._native",
        sources=sources,
        depends=headers,  # rebuild on header changes, and ship the headers in the sdist
        include_dirs=["cpp_ext"],
        cxx_std=17,
        extra_compile_args=flags,
        optional=True,  # a failed build is a warning; the numpy fallback is used
    )


setup(
    packages=["qwen_asr_edge", "qwen_asr_edge.export", "qwen_asr_edge.quantize"],
    package_dir={
        "qwen_asr_edge": "runtime",
        "qwen_asr_edge.export": "export",
        "qwen_asr_edge.quantize": "quantize",
    },
    package_data={"qwen_asr_edge": ["_native.pyi", "models/asr/*", "models/aligner/*"]},
    ext_modules=[native_extension()] if Pybind11Extension else [],
    cmdclass={"build_ext": build_ext} if build_ext else {},
)
