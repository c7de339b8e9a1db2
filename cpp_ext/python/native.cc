// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// The extension module qwen_asr_edge._native: only registers the bindings, one file per core header.

#include <pybind11/pybind11.h>

#include "python/beam_step.h"
#include "python/log_mel.h"
#include "python/streaming_log_mel.h"

PYBIND11_MODULE(_native, m) {
  m.doc() =
      "C++ core of qwen-asr-edge (cpp_ext/): exact Whisper log-mel features, offline and streaming, and the\n"
      "beam-search selection step.\n"
      "Use it through qwen_asr_edge.features and qwen_asr_edge.beam, which fall back to numpy without it.";
  qae::PybindBeamStep(m);
  qae::PybindLogMel(m);
  qae::PybindStreamingLogMel(m);
}
