// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// Mixed-radix Stockham FFT; see rfft.h for the method. One pass of radix p over sub-transforms of
// length len = p * m, with s of them interleaved (element i of sub-transform q at q + s*i):
//   for j < m, q < s:  a_r = x[q + s*(j + r*m)],  b_u = sum_r a_r w_p^(r*u),
//                      y[q + s*(p*j + u)] = b_u * w_len^(j*u)
// after which the s*p interleaved sub-transforms of length m are transformed the same way; the
// output ends in natural order (no bit reversal).
//
// The plan (radices, twiddles) is built here; the transform itself is in lane_kernels.h.

#include "core/rfft.h"

#include <cmath>
#include <cstring>

#include "core/check.h"
#include "core/lane_kernels.h"

namespace qae {
namespace {

// exp(-2*pi*i*t/len), exact at multiples of a quarter turn and exactly conjugate-symmetric.
Cpx UnitRoot(int64_t t, int64_t len) {
  t %= len;
  if (t < 0) t += len;
  if (4 * t % len == 0) {
    switch (4 * t / len) {
      case 0: return {1.0, 0.0};
      case 1: return {0.0, -1.0};
      case 2: return {-1.0, 0.0};
      default: return {0.0, 1.0};
    }
  }
  if (2 * t > len) {  // conj of the root of len - t
    Cpx r = UnitRoot(len - t, len);
    return {r.re, -r.im};
  }
  const double angle = 2.0 * kLanePi * static_cast<double>(t) / static_cast<double>(len);
  return {std::cos(angle), -std::sin(angle)};
}

}  // namespace

Rfft::Rfft(int32_t n) : n_(n), half_(n / 2) {
  QAE_CHECK(n >= 2 && n % 2 == 0, "rfft: the length must be even and >= 2, got " << n);
  std::vector<int32_t> radices;
  int32_t rest = half_;
  for (int32_t p : {4, 2, 3, 5}) {
    while (rest % p == 0) {
      radices.push_back(p);
      rest /= p;
    }
  }
  for (int32_t p = 7; rest > 1; p += 2) {
    while (rest % p == 0) {
      radices.push_back(p);
      rest /= p;
    }
  }
  int32_t len = half_, stride = 1;
  for (int32_t p : radices) {
    const int32_t m = len / p;
    Pass pass{p, len, stride, twiddles_.size() / 2, roots_.size() / 2};
    for (int32_t j = 0; j < m; ++j) {
      for (int32_t u = 0; u < p; ++u) {
        const Cpx w = UnitRoot(static_cast<int64_t>(j) * u, len);
        twiddles_.push_back(w.re);
        twiddles_.push_back(w.im);
      }
    }
    if (p > 5) {
      for (int32_t u = 0; u < p; ++u) {
        const Cpx w = UnitRoot(u, p);
        roots_.push_back(w.re);
        roots_.push_back(w.im);
      }
    }
    passes_.push_back(pass);
    len = m;
    stride *= p;
  }
  for (int32_t k = 0; k <= half_; ++k) {
    const Cpx w = UnitRoot(k, n_);
    split_.push_back(w.re);
    split_.push_back(w.im);
  }
}

std::vector<int32_t> Rfft::Radices() const {
  std::vector<int32_t> out;
  for (const Pass& pass : passes_) out.push_back(pass.radix);
  return out;
}

void Rfft::ComputePower(const double* in, double* power, double* work) const {
  FftPowerLanes<1>(*this, in, power, work);
}

void Rfft::Compute(const double* in, double* out, double* work) const {
  double* a = work;
  double* b = work + 2 * half_;
  if (in != a) std::memcpy(a, in, sizeof(double) * 2 * half_);
  const double* z = ComplexFftLanes<1>(*this, a, b);
  out[0] = z[0] + z[1];
  out[1] = 0.0;
  for (int64_t k = 1; k < half_; ++k) {
    const V<1> v = SplitBin<1>(z, half_, split_.data(), k);
    out[2 * k] = v.re[0];
    out[2 * k + 1] = v.im[0];
  }
  out[2 * half_] = z[0] - z[1];
  out[2 * half_ + 1] = 0.0;
}

}  // namespace qae
