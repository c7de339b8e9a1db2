// Copyright 2026 qwen-asr-edge authors. Apache-2.0.

#ifndef QWEN_ASR_EDGE_CPP_EXT_PYTHON_BEAM_STEP_H_
#define QWEN_ASR_EDGE_CPP_EXT_PYTHON_BEAM_STEP_H_

#include <pybind11/pybind11.h>

namespace qae {

/// beam_step (core/beam_step.h).
void PybindBeamStep(pybind11::module_& m);

}  // namespace qae

#endif  // QWEN_ASR_EDGE_CPP_EXT_PYTHON_BEAM_STEP_H_
