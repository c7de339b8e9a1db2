// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// The log-mel step for 4 frames at once in 256-bit AVX2 registers (log_mel_simd.h).

#define QAE_SIMD_LANES 4
#define QAE_SIMD_FUNCTION LogMelLanesAvx2
#include "core/log_mel_simd_target.h"
