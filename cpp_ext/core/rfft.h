// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// Real FFT of any even length, double precision, written for the 400-point Whisper STFT
// (400 = 2^4 * 5^2; rounding up to 512 would change the features).
//
// Method: the n real samples are read as n/2 complex values z[m] = x[2m] + i*x[2m+1]; a mixed-radix
// Stockham (self-sorting, decimation-in-frequency) complex FFT of length n/2 with radix-4/2/3/5
// kernels (a generic O(p^2) kernel for other primes) and precomputed twiddles gives Z; one pass
// X[k] = (Z[k] + conj(Z[h-k])) / 2 - i/2 * w^k * (Z[k] - conj(Z[h-k])), h = n/2, w = exp(-2*pi*i/n),
// splits it into the n/2+1 bins of the real input. Twiddles are computed directly with cos/sin of
// 2*pi*(j*u mod len)/len, never by recurrence, so the result is accurate to a few ulps of the
// frame's energy (checked against a long-double DFT in tests/cpp/test_log_mel.cc).
// n = 400: 200 = 4 * 2 * 5 * 5, four passes over 200 complex values.
//
// This class holds the plan; the transform runs in lane_kernels.h, where the log-mel computes several
// frames at once (one per SIMD lane) with results bit-identical to one frame at a time.

#ifndef QWEN_ASR_EDGE_CPP_EXT_CORE_RFFT_H_
#define QWEN_ASR_EDGE_CPP_EXT_CORE_RFFT_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace qae {

/// Forward real FFT X[k] = sum_j x[j] exp(-2*pi*i*j*k/n), k = 0..n/2, for a fixed even n >= 2.
/// Immutable after construction: the Compute functions are const and use caller-provided scratch,
/// so one Rfft may be shared by threads.
class Rfft {
 public:
  explicit Rfft(int32_t n);

  int32_t Size() const { return n_; }
  /// Number of complex bins, n/2 + 1.
  int32_t NumBins() const { return half_ + 1; }
  /// Doubles of scratch that the Compute functions need per lane.
  int32_t WorkSize() const { return 4 * half_; }

  /// in: n doubles. out: NumBins() complex bins as interleaved (re, im), 2*NumBins() doubles.
  /// work: WorkSize() doubles. `in` may be `work` itself.
  void Compute(const double* in, double* out, double* work) const;

  /// |X[k]|^2 for k = 0..n/2 into power (NumBins() doubles); same arguments as Compute().
  void ComputePower(const double* in, double* power, double* work) const;

  /// The radices used for the complex length n/2, in pass order (for tests).
  std::vector<int32_t> Radices() const;

 struct Pass {
    int32_t radix;          // p
    int32_t length;         // length of the sub-transforms entering this pass (len = p * m)
    int32_t stride;         // s: number of interleaved sub-transforms
    size_t twiddle_offset;  // into Twiddles(): (m * p) complex values, [j * p + u] = w_len^(j*u)
    size_t root_offset;     // into Roots() for the generic kernel: p complex values w_p^u
  };
  // The plan, for the transform kernels (lane_kernels.h).
  const std::vector<Pass>& Passes() const { return passes_; }
  const double* Twiddles() const { return twiddles_.data(); }  // interleaved complex
  const double* Roots() const { return roots_.data(); }        // interleaved complex, generic radices only
  const double* Split() const { return split_.data(); }        // interleaved complex w_n^k, k = 0..n/2

 private:
  int32_t n_;
  int32_t half_;
  std::vector<Pass> passes_;
  std::vector<double> twiddles_;
  std::vector<double> roots_;
  std::vector<double> split_;
};

}  // namespace qae

#endif  // QWEN_ASR_EDGE_CPP_EXT_CORE_RFFT_H_
