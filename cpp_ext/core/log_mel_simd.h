// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// INTERNAL: the log-mel step compiled for wider x86 vectors, chosen at run time by
// LogMelComputer::ComputeLanes: 8 frames per step with AVX-512 (log_mel_avx512.cc), 4 with AVX2
// (log_mel_avx2.cc). Both are lane_kernels.h compiled for that target, so their results are
// bit-identical to the baseline (SSE2/NEON) two-frame and one-frame steps. Elsewhere (ARM, other
// compilers) they do not exist and the Available() functions say false.

#ifndef QWEN_ASR_EDGE_CPP_EXT_CORE_LOG_MEL_SIMD_H_
#define QWEN_ASR_EDGE_CPP_EXT_CORE_LOG_MEL_SIMD_H_

#include "core/log_mel.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define QAE_HAVE_X86_SIMD_LOG_MEL 1
#else
#define QAE_HAVE_X86_SIMD_LOG_MEL 0
#endif

namespace qae {

/// True when this build has the step, the CPU (and OS) supports its instructions, and the environment
/// variable QWEN_ASR_EDGE_MAX_SIMD (avx2: no AVX-512; baseline: neither) does not rule it out. Read once.
bool Avx512LogMelAvailable();
bool Avx2LogMelAvailable();

#if QAE_HAVE_X86_SIMD_LOG_MEL
/// LogMelComputer::ComputeLanes for exactly 8 (4) frames; call only when Avx512 (Avx2) LogMelAvailable().
void LogMelLanesAvx512(const LogMelComputer& computer, const float* const* frames, float* const* outs, double* work);
void LogMelLanesAvx2(const LogMelComputer& computer, const float* const* frames, float* const* outs, double* work);
#endif

}  // namespace qae

#endif  // QWEN_ASR_EDGE_CPP_EXT_CORE_LOG_MEL_SIMD_H_
