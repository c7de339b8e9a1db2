// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// The log-mel step for 8 frames at once in 512-bit AVX-512 registers (log_mel_simd.h).

#define QAE_SIMD_LANES 8
#define QAE_SIMD_FUNCTION LogMelLanesAvx512
#include "core/log_mel_simd_target.h"
