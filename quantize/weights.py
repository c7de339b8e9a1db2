"""Weight-only block quantization of a graph's MatMul weights (ONNX Runtime's MatMulNBits)."""
from __future__ import annotations

import logging
from typing import Sequence

import onnx
from onnxruntime.quantization.matmul_nbits_quantizer import DefaultWeightOnlyQuantConfig, MatMulNBitsQuantizer

from .dynamic import quantize_matmuls_w8a8
from .recipe import Precision

ACCURACY_LEVEL = 4  # int8 activations with int8 dot-product kernels (VNNI on x86, SDOT/i8mm on ARM64)


def quantize_matmuls(model: onnx.ModelProto, precision: Precision, exclude: Sequence[str] = (),
                     include: Sequence[str] | None = None) -> onnx.ModelProto:
    """Every MatMul with a constant weight (or only the nodes named in `include`, none named in `exclude`)
    -> MatMulNBits (symmetric blocks along the input dimension).

    Weights whose input dimension is not a multiple of the block size are left in float by ORT's quantizer.
    A w8a8 precision goes to quantize/dynamic.py instead.
    """
    if precision.dynamic:
        return quantize_matmuls_w8a8(model, exclude, include)
    config = DefaultWeightOnlyQuantConfig(block_size=precision.block_size, is_symmetric=True,
                                          accuracy_level=ACCURACY_LEVEL, bits=precision.bits)
    logging.getLogger("onnxruntime.quantization").setLevel(logging.ERROR)
    quantizer = MatMulNBitsQuantizer(model, bits=precision.bits, block_size=precision.block_size, is_symmetric=True,
                                     accuracy_level=ACCURACY_LEVEL, algo_config=config, nodes_to_exclude=list(exclude),
                                     nodes_to_include=list(include) if include is not None else None)
    quantizer.process()
    return quantizer.model.model
