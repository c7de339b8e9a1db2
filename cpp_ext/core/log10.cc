// Copyright 2026 qwen-asr-edge authors. Apache-2.0.

#include "core/log10.h"

#include <cstring>
#include <limits>

namespace qae {
namespace {

constexpr double kSqrt2 = 1.41421356237309504880;
constexpr double kLn2Hi = 6.93147180369123816490e-01;  // 0x3FE62E42FEE00000: e * kLn2Hi is exact
constexpr double kLn2Lo = 1.90821492927058770002e-10;  // ln 2 - kLn2Hi
constexpr double kInvLn10 = 0.43429448190325182765112891891660508;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr uint64_t kMantissaMask = 0x000FFFFFFFFFFFFFULL;
constexpr uint64_t kOneBits = 0x3FF0000000000000ULL;   // 1.0
constexpr uint64_t kTwo52Bits = 0x4330000000000000ULL;  // 2^52: OR-ing a small integer in gives 2^52 + k
constexpr double kTwo52PlusBias = 4503599627370496.0 + 1023.0;

// 2 atanh(f) / f = sum_k 2 f^(2k) / (2k + 1), k = 0..9, in s = f^2 (Estrin's scheme: a short
// dependency chain, so consecutive values overlap in the pipeline).
template <typename T>
inline T SeriesInS(T s) {
  const T s2 = s * s;
  const T s4 = s2 * s2;
  const T s8 = s4 * s4;
  const T p01 = s * (2.0 / 3) + 2.0;
  const T p23 = s * (2.0 / 7) + 2.0 / 5;
  const T p45 = s * (2.0 / 11) + 2.0 / 9;
  const T p67 = s * (2.0 / 15) + 2.0 / 13;
  const T p89 = s * (2.0 / 19) + 2.0 / 17;
  return (p01 + s2 * p23) + s4 * (p45 + s2 * p67) + s8 * p89;
}

inline double AsDouble(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, sizeof(d));
  return d;
}

inline uint64_t AsBits(double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof(bits));
  return bits;
}

double Log10One(double x) {
  const uint64_t bits = AsBits(x);
  double m = AsDouble((bits & kMantissaMask) | kOneBits);      // [1, 2)
  double e = AsDouble((bits >> 52) | kTwo52Bits) - kTwo52PlusBias;  // unbiased exponent, exact
  if (m > kSqrt2) {
    m = m * 0.5;
    e = e + 1.0;
  }
  const double f = (m - 1.0) / (m + 1.0);
  const double log_m = f * SeriesInS(f * f);
  const double result = (e * kLn2Hi + (log_m + e * kLn2Lo)) * kInvLn10;
  return x < kInf ? result : x;  // +inf and NaN pass through
}

#if defined(__GNUC__) || defined(__clang__)
typedef double D2 __attribute__((vector_size(16)));
typedef uint64_t U2 __attribute__((vector_size(16)));

inline D2 AsD2(U2 bits) {
  D2 d;
  std::memcpy(&d, &bits, sizeof(d));
  return d;
}

inline U2 AsU2(D2 d) {
  U2 bits;
  std::memcpy(&bits, &d, sizeof(bits));
  return bits;
}

template <typename To, typename From>
inline To BitCast(From from) {
  static_assert(sizeof(To) == sizeof(From), "BitCast: sizes differ");
  To to;
  std::memcpy(&to, &from, sizeof(to));
  return to;
}

inline D2 Splat(double v) { return D2{v, v}; }
inline U2 Splat(uint64_t v) { return U2{v, v}; }

// Log10One on two values, with the branches as bit selects.
inline D2 Log10Two(D2 x) {
  const U2 bits = AsU2(x);
  D2 m = AsD2((bits & Splat(kMantissaMask)) | Splat(kOneBits));
  D2 e = AsD2((bits >> 52) | Splat(kTwo52Bits)) - Splat(kTwo52PlusBias);
  const U2 big = BitCast<U2>(m > Splat(kSqrt2));  // all ones where true
  m = AsD2((big & AsU2(m * Splat(0.5))) | (~big & AsU2(m)));
  e = AsD2((big & AsU2(e + Splat(1.0))) | (~big & AsU2(e)));
  const D2 f = (m - Splat(1.0)) / (m + Splat(1.0));
  const D2 log_m = f * SeriesInS(f * f);
  const D2 result = (e * Splat(kLn2Hi) + (log_m + e * Splat(kLn2Lo))) * Splat(kInvLn10);
  const U2 finite = BitCast<U2>(x < Splat(kInf));
  return AsD2((finite & AsU2(result)) | (~finite & AsU2(x)));
}
#endif

}  // namespace

void Log10Positive(const double* in, double* out, int64_t n) {
  int64_t i = 0;
#if defined(__GNUC__) || defined(__clang__)
  for (; i + 2 <= n; i += 2) {
    D2 x;
    std::memcpy(&x, in + i, sizeof(x));
    const D2 y = Log10Two(x);
    std::memcpy(out + i, &y, sizeof(y));
  }
#endif
  for (; i < n; ++i) out[i] = Log10One(in[i]);
}

}  // namespace qae
