// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// log10 of an array of doubles, two at a time in SSE2/NEON registers (GCC/Clang vector extensions;
// one at a time elsewhere, with the same operations; the code is Log10Array in lane_kernels.h, which
// the log-mel also runs four at a time on AVX2). About 2x faster than std::log10 per value, and
// independent of the C library, so glibc and Android's bionic give the same bits. Accurate to about
// 2 ulps of double (the features are rounded to float afterwards; tests/cpp/test_log_mel.cc checks
// it against long-double log10 over [1e-300, 1e300]).
//
// Method: x = 2^e * m with m in [sqrt(1/2), sqrt(2)), ln(m) = 2 atanh(f), f = (m - 1) / (m + 1)
// (|f| <= 0.1716) by its odd series to f^19 (Estrin's scheme), ln(x) = e ln2 + ln(m) with ln2 split in a high part
// (exact times e) and a low part, then times 1/ln(10). Every value goes through the same
// operations whether it is computed in a vector register or alone, so results do not depend on
// the array length or position.

#ifndef QWEN_ASR_EDGE_CPP_EXT_CORE_LOG10_H_
#define QWEN_ASR_EDGE_CPP_EXT_CORE_LOG10_H_

#include <cstdint>

namespace qae {

/// out[i] = log10(in[i]) for in[i] that are normal positive numbers (>= 2.2250738585072014e-308),
/// +infinity (-> +infinity) or NaN (-> NaN). Zero, negative and subnormal inputs are not supported:
/// callers clamp to a positive floor first. in may equal out.
void Log10Positive(const double* in, double* out, int64_t n);

}  // namespace qae

#endif  // QWEN_ASR_EDGE_CPP_EXT_CORE_LOG10_H_
