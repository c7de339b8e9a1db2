// Copyright 2026 qwen-asr-edge authors. Apache-2.0.

#ifndef QWEN_ASR_EDGE_CPP_EXT_PYTHON_STREAMING_LOG_MEL_H_
#define QWEN_ASR_EDGE_CPP_EXT_PYTHON_STREAMING_LOG_MEL_H_

#include <pybind11/pybind11.h>

namespace qae {

/// StreamingLogMel (core/streaming_log_mel.h).
void PybindStreamingLogMel(pybind11::module_& m);

}  // namespace qae

#endif  // QWEN_ASR_EDGE_CPP_EXT_PYTHON_STREAMING_LOG_MEL_H_
