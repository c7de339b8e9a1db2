// Copyright 2026 qwen-asr-edge authors. Apache-2.0.

#ifndef QWEN_ASR_EDGE_CPP_EXT_PYTHON_LOG_MEL_H_
#define QWEN_ASR_EDGE_CPP_EXT_PYTHON_LOG_MEL_H_

#include <pybind11/pybind11.h>

namespace qae {

/// LogMelOptions, log_mel_power, log_mel_spectrogram, mel_filters (core/log_mel.h).
void PybindLogMel(pybind11::module_& m);

}  // namespace qae

#endif  // QWEN_ASR_EDGE_CPP_EXT_PYTHON_LOG_MEL_H_
