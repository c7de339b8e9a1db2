// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// INTERNAL, no include guard: the body of log_mel_avx2.cc and log_mel_avx512.cc. Defines
// QAE_SIMD_FUNCTION as LogMelLanes<QAE_SIMD_LANES> (lane_kernels.h) compiled for AVX-512 when
// QAE_SIMD_LANES is 8 and for AVX2 when it is 4; the including file defines both macros. The standard headers come first, outside the
// target region, so nothing with external linkage is compiled for the wider target (the kernels have
// internal linkage). Only the named target is enabled, not FMA, and the build passes
// -ffp-contract=off: the arithmetic stays that of one frame at a time.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "core/log_mel_simd.h"

#if QAE_HAVE_X86_SIMD_LOG_MEL

#if defined(__clang__) && QAE_SIMD_LANES == 8
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#elif defined(__clang__) && QAE_SIMD_LANES == 4
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#elif QAE_SIMD_LANES == 8
#pragma GCC push_options
#pragma GCC target("avx512f")
#elif QAE_SIMD_LANES == 4
#pragma GCC push_options
#pragma GCC target("avx2")
#else
#error "QAE_SIMD_LANES must be 4 (AVX2) or 8 (AVX-512)"
#endif

#include "core/lane_kernels.h"

namespace qae {

void QAE_SIMD_FUNCTION(const LogMelComputer& computer, const float* const* frames, float* const* outs, double* work) {
  LogMelLanes<QAE_SIMD_LANES>(computer, frames, outs, work);
}

}  // namespace qae

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif
