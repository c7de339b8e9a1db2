// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// The extension module qwen_asr_edge._native: only registers the bindings, one file per core header.

#include <pybind11/pybind11.h>

#include "python/log_mel.h"
#include "python/streaming_log_mel.h"

PYBIND11_MODULE(_native, m) {
  m.doc() =
      "C++ core of qwen-asr-edge (cpp_ext/): exact Whisper log-mel features, offline and streaming.\n"
      "Use it through qwen_asr_edge.features, which falls back to numpy when this module is missing.";
  qae::PybindLogMel(m);
  qae::PybindStreamingLogMel(m);
}
