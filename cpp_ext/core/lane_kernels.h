// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// INTERNAL header: the per-frame log-mel arithmetic (real FFT passes, power, mel filterbank, log10)
// written once for L frames at a time ("lanes"), each lane one double of a SIMD register.
// Everything here has internal linkage, so every translation unit that includes it gets its own
// copy compiled for its own instruction set:
//   rfft.cc, mel_filterbank.cc, log10.cc, log_mel.cc   baseline ISA (SSE2 on x86-64, NEON on ARM64), L = 1, 2
//   log_mel_avx2.cc                                   compiled for AVX2 (x86-64 only), L = 4
// and log_mel.cc picks the AVX2 copy at run time when the CPU has it (log_mel_avx2.h).
//
// Bit-identical lanes: every lane goes through exactly the operations a one-frame computation does
// (no cross-lane arithmetic, no reassociation; the build uses -ffp-contract=off, so no fused
// multiply-add anywhere), hence the same bits for L = 1, 2 or 4, on any ISA.
//
// Include only after the standard headers it uses (they must not be compiled under a target pragma).

#ifndef QWEN_ASR_EDGE_CPP_EXT_CORE_LANE_KERNELS_H_
#define QWEN_ASR_EDGE_CPP_EXT_CORE_LANE_KERNELS_H_

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "core/log_mel.h"
#include "core/mel_filterbank.h"
#include "core/rfft.h"

namespace qae {
namespace {

constexpr double kLanePi = 3.14159265358979323846264338327950288;

struct Cpx {
  double re;
  double im;
};

inline Cpx Load(const double* x, int64_t i) { return {x[2 * i], x[2 * i + 1]}; }

// ---------------------------------------------------------------------------------------------
// Lane groups. V<L> holds L complex values, one per lane; with GCC/Clang its halves are vector-extension
// types, so the arithmetic becomes SIMD instructions, each lane rounding exactly as scalar code would.
// Buffers hold complex element i of L lanes as the block x[2*L*i .. 2*L*i + 2*L) =
// [re of lanes 0..L-1, im of lanes 0..L-1].

#if defined(__GNUC__) || defined(__clang__)
#define QAE_LANE_VECTORS 1

template <int L>
struct Doubles {
  typedef double type __attribute__((vector_size(sizeof(double) * L)));
};
template <int L>
struct Words {
  typedef uint64_t type __attribute__((vector_size(sizeof(uint64_t) * L)));
};

template <int L>
struct V {
  typename Doubles<L>::type re;
  typename Doubles<L>::type im;
};

template <int L>
inline V<L> LoadV(const double* x, int64_t i) {
  V<L> v;
  std::memcpy(&v.re, x + 2 * L * i, sizeof(v.re));
  std::memcpy(&v.im, x + 2 * L * i + L, sizeof(v.im));
  return v;
}

template <int L>
inline void StoreV(double* y, int64_t i, const V<L>& v) {
  std::memcpy(y + 2 * L * i, &v.re, sizeof(v.re));
  std::memcpy(y + 2 * L * i + L, &v.im, sizeof(v.im));
}

template <int L>
inline V<L> Add(const V<L>& a, const V<L>& b) { return {a.re + b.re, a.im + b.im}; }
template <int L>
inline V<L> Sub(const V<L>& a, const V<L>& b) { return {a.re - b.re, a.im - b.im}; }
template <int L>
inline V<L> Scale(const V<L>& a, double s) { return {a.re * s, a.im * s}; }
template <int L>
inline V<L> MulNegI(const V<L>& a) { return {a.im, -a.re}; }  // -i * a
template <int L>
inline V<L> Mul(const V<L>& a, Cpx w) { return {a.re * w.re - a.im * w.im, a.re * w.im + a.im * w.re}; }
template <int L>
inline V<L> Conj(const V<L>& a) { return {a.re, -a.im}; }
template <int L>
inline void StoreNorm(double* y, const V<L>& a) {  // y[l] = |a_l|^2
  const typename Doubles<L>::type norm = a.re * a.re + a.im * a.im;
  std::memcpy(y, &norm, sizeof(norm));
}

#else  // plain arrays, the same operations lane by lane

template <int L>
struct V {
  double re[L];
  double im[L];
};

template <int L>
inline V<L> LoadV(const double* x, int64_t i) {
  V<L> v;
  for (int l = 0; l < L; ++l) {
    v.re[l] = x[2 * L * i + l];
    v.im[l] = x[2 * L * i + L + l];
  }
  return v;
}

template <int L>
inline void StoreV(double* y, int64_t i, const V<L>& v) {
  for (int l = 0; l < L; ++l) {
    y[2 * L * i + l] = v.re[l];
    y[2 * L * i + L + l] = v.im[l];
  }
}

#define QAE_LANEWISE(name, params, re_expr, im_expr) \
  template <int L>                                   \
  inline V<L> name params {                          \
    V<L> r;                                          \
    for (int l = 0; l < L; ++l) {                    \
      r.re[l] = re_expr;                             \
      r.im[l] = im_expr;                             \
    }                                                \
    return r;                                        \
  }
QAE_LANEWISE(Add, (const V<L>& a, const V<L>& b), a.re[l] + b.re[l], a.im[l] + b.im[l])
QAE_LANEWISE(Sub, (const V<L>& a, const V<L>& b), a.re[l] - b.re[l], a.im[l] - b.im[l])
QAE_LANEWISE(Scale, (const V<L>& a, double s), a.re[l] * s, a.im[l] * s)
QAE_LANEWISE(MulNegI, (const V<L>& a), a.im[l], -a.re[l])
QAE_LANEWISE(Mul, (const V<L>& a, Cpx w), a.re[l] * w.re - a.im[l] * w.im, a.re[l] * w.im + a.im[l] * w.re)
QAE_LANEWISE(Conj, (const V<L>& a), a.re[l], -a.im[l])
#undef QAE_LANEWISE

template <int L>
inline void StoreNorm(double* y, const V<L>& a) {  // y[l] = |a_l|^2
  for (int l = 0; l < L; ++l) y[l] = a.re[l] * a.re[l] + a.im[l] * a.im[l];
}

#endif

// ---------------------------------------------------------------------------------------------
// Mixed-radix Stockham FFT (rfft.h has the method). One pass of radix p over sub-transforms of
// length len = p * m, s of them interleaved (element i of sub-transform q at q + s*i):
//   for j < m, q < s:  a_r = x[q + s*(j + r*m)],  b_u = sum_r a_r w_p^(r*u),
//                      y[q + s*(p*j + u)] = b_u * w_len^(j*u)
// Twiddles are skipped for j = 0, where all of them are 1 (x * (1, 0) is exact, so the result is the same).

template <int P, int L, typename Kernel>
void RadixPass(const double* x, double* y, int64_t m, int64_t s, const double* tw, const Kernel& kernel) {
  for (int64_t j = 0; j < m; ++j) {
    Cpx w[P];
    for (int u = 0; u < P; ++u) w[u] = Load(tw, P * j + u);
    for (int64_t q = 0; q < s; ++q) {
      V<L> a[P], b[P];
      for (int r = 0; r < P; ++r) a[r] = LoadV<L>(x, q + s * (j + r * m));
      kernel(a, b);
      StoreV(y, q + s * (P * j), b[0]);
      if (j == 0) {
        for (int u = 1; u < P; ++u) StoreV(y, q + s * (P * j + u), b[u]);
      } else {
        for (int u = 1; u < P; ++u) StoreV(y, q + s * (P * j + u), Mul(b[u], w[u]));
      }
    }
  }
}

template <int L>
struct Kernel2 {
  void operator()(const V<L>* a, V<L>* b) const {
    b[0] = Add(a[0], a[1]);
    b[1] = Sub(a[0], a[1]);
  }
};

template <int L>
struct Kernel3 {
  double h = std::sqrt(3.0) / 2.0;  // sin(2 pi / 3)
  void operator()(const V<L>* a, V<L>* b) const {
    const V<L> t1 = Add(a[1], a[2]);
    const V<L> t2 = Sub(a[0], Scale(t1, 0.5));
    const V<L> t3 = Scale(MulNegI(Sub(a[1], a[2])), h);  // -i sin(2pi/3) (a1 - a2)
    b[0] = Add(a[0], t1);
    b[1] = Add(t2, t3);
    b[2] = Sub(t2, t3);
  }
};

template <int L>
struct Kernel4 {
  void operator()(const V<L>* a, V<L>* b) const {
    const V<L> s02 = Add(a[0], a[2]), d02 = Sub(a[0], a[2]);
    const V<L> s13 = Add(a[1], a[3]), d13 = MulNegI(Sub(a[1], a[3]));
    b[0] = Add(s02, s13);
    b[1] = Add(d02, d13);
    b[2] = Sub(s02, s13);
    b[3] = Sub(d02, d13);
  }
};

template <int L>
struct Kernel5 {
  double c1 = std::cos(2.0 * kLanePi / 5.0), c2 = std::cos(4.0 * kLanePi / 5.0);
  double s1 = std::sin(2.0 * kLanePi / 5.0), s2 = std::sin(4.0 * kLanePi / 5.0);
  void operator()(const V<L>* a, V<L>* b) const {
    const V<L> t1 = Add(a[1], a[4]), t2 = Add(a[2], a[3]);
    const V<L> t3 = Sub(a[1], a[4]), t4 = Sub(a[2], a[3]);
    const V<L> r1 = Add(a[0], Add(Scale(t1, c1), Scale(t2, c2)));
    const V<L> r2 = Add(a[0], Add(Scale(t1, c2), Scale(t2, c1)));
    const V<L> i1 = MulNegI(Add(Scale(t3, s1), Scale(t4, s2)));  // -i (s1 t3 + s2 t4)
    const V<L> i2 = MulNegI(Sub(Scale(t3, s2), Scale(t4, s1)));  // -i (s2 t3 - s1 t4)
    b[0] = Add(a[0], Add(t1, t2));
    b[1] = Add(r1, i1);
    b[2] = Add(r2, i2);
    b[3] = Sub(r2, i2);
    b[4] = Sub(r1, i1);
  }
};

template <int L>
void RadixGeneric(const double* x, double* y, int64_t p, int64_t m, int64_t s, const double* tw,
                  const double* roots) {
  for (int64_t j = 0; j < m; ++j) {
    for (int64_t q = 0; q < s; ++q) {
      for (int64_t u = 0; u < p; ++u) {
        V<L> acc = Scale(LoadV<L>(x, q + s * j), 0.0);  // zeros
        for (int64_t r = 0; r < p; ++r) {
          acc = Add(acc, Mul(LoadV<L>(x, q + s * (j + r * m)), Load(roots, (r * u) % p)));
        }
        StoreV(y, q + s * (p * j + u), Mul(acc, Load(tw, p * j + u)));
      }
    }
  }
}

/// The complex FFT of length n/2 of L lanes, from a into b and back, alternating; returns the buffer holding
/// the result.
template <int L>
const double* ComplexFftLanes(const Rfft& fft, double* a, double* b) {
  double* x = a;
  double* y = b;
  for (const Rfft::Pass& pass : fft.Passes()) {
    const int64_t m = pass.length / pass.radix;
    const double* tw = fft.Twiddles() + 2 * pass.twiddle_offset;
    switch (pass.radix) {
      case 2: RadixPass<2, L>(x, y, m, pass.stride, tw, Kernel2<L>()); break;
      case 3: RadixPass<3, L>(x, y, m, pass.stride, tw, Kernel3<L>()); break;
      case 4: RadixPass<4, L>(x, y, m, pass.stride, tw, Kernel4<L>()); break;
      case 5: RadixPass<5, L>(x, y, m, pass.stride, tw, Kernel5<L>()); break;
      default: RadixGeneric<L>(x, y, pass.radix, m, pass.stride, tw, fft.Roots() + 2 * pass.root_offset);
    }
    double* t = x;
    x = y;
    y = t;
  }
  return x;
}

/// Bin k of the real input from Z, the complex FFT of the packed input (L lanes), 0 < k < h = n/2:
/// Z = E + iO with E, O the spectra of the even and odd samples, E[k] = (Z[k] + conj(Z[h-k])) / 2,
/// O[k] = (Z[k] - conj(Z[h-k])) / 2i, X[k] = E + w^k O. Bins 0 and h are Re Z[0] +- Im Z[0].
template <int L>
inline V<L> SplitBin(const double* z, int64_t half, const double* split, int64_t k) {
  const V<L> zk = LoadV<L>(z, k);
  const V<L> zc = Conj(LoadV<L>(z, half - k));
  const V<L> even = Scale(Add(zk, zc), 0.5);
  const V<L> odd = Scale(MulNegI(Sub(zk, zc)), 0.5);
  return Add(even, Mul(odd, Load(split, k)));
}

/// |X_l[k]|^2 into power[k * L + l] for the L lane-interleaved real frames in `in` (sample i of lane l at
/// in[i * L + l], which is already the packed complex input); work: L * fft.WorkSize() doubles, may be `in`.
template <int L>
void FftPowerLanes(const Rfft& fft, const double* in, double* power, double* work) {
  const int64_t half = fft.Size() / 2;
  double* a = work;
  double* b = work + 2 * half * L;
  if (in != a) std::memcpy(a, in, sizeof(double) * 2 * half * L);
  const double* z = ComplexFftLanes<L>(fft, a, b);
  const V<L> z0 = LoadV<L>(z, 0);
  for (int l = 0; l < L; ++l) {
    const double first = z0.re[l] + z0.im[l], last = z0.re[l] - z0.im[l];
    power[l] = first * first;
    power[half * L + l] = last * last;
  }
  for (int64_t k = 1; k < half; ++k) StoreNorm(power + k * L, SplitBin<L>(z, half, fft.Split(), k));
}

// ---------------------------------------------------------------------------------------------
// Mel filterbank: mel[m * L + l] = sum over the band's run of W[k, m] * power[k * L + l], in bin order.

template <int L>
void MelLanes(const MelFilterbank& fb, const double* power, double* mel) {
  for (int32_t m = 0; m < fb.NumMels(); ++m) {
    const double* p = power + static_cast<int64_t>(fb.FirstBin(m)) * L;
    const double* w = fb.BandWeights(m);
    const int32_t count = fb.BandSize(m);
    double acc[L] = {};
    for (int32_t i = 0; i < count; ++i) {
      for (int l = 0; l < L; ++l) acc[l] += w[i] * p[i * L + l];
    }
    for (int l = 0; l < L; ++l) mel[m * L + l] = acc[l];
  }
}

// ---------------------------------------------------------------------------------------------
// log10 of positive normal doubles (log10.h has the method and accuracy). Log10One is the scalar
// version; Log10Vec<W> the same operations on W values at once, the branches as bit selects.

constexpr double kSqrt2 = 1.41421356237309504880;
constexpr double kLn2Hi = 6.93147180369123816490e-01;  // 0x3FE62E42FEE00000: e * kLn2Hi is exact
constexpr double kLn2Lo = 1.90821492927058770002e-10;  // ln 2 - kLn2Hi
constexpr double kInvLn10 = 0.43429448190325182765112891891660508;
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

template <typename To, typename From>
inline To BitCast(const From& from) {
  static_assert(sizeof(To) == sizeof(From), "BitCast: sizes differ");
  To to;
  std::memcpy(&to, &from, sizeof(to));
  return to;
}

inline double Log10One(double x) {
  const uint64_t bits = BitCast<uint64_t>(x);
  double m = BitCast<double>((bits & kMantissaMask) | kOneBits);          // [1, 2)
  double e = BitCast<double>((bits >> 52) | kTwo52Bits) - kTwo52PlusBias;  // unbiased exponent, exact
  if (m > kSqrt2) {
    m = m * 0.5;
    e = e + 1.0;
  }
  const double f = (m - 1.0) / (m + 1.0);
  const double log_m = f * SeriesInS(f * f);
  const double result = (e * kLn2Hi + (log_m + e * kLn2Lo)) * kInvLn10;
  return x < std::numeric_limits<double>::infinity() ? result : x;  // +inf and NaN pass through
}

#if QAE_LANE_VECTORS
template <int W>
inline typename Doubles<W>::type Log10Vec(typename Doubles<W>::type x) {
  typedef typename Doubles<W>::type D;
  typedef typename Words<W>::type U;
  const U bits = BitCast<U>(x);
  D m = BitCast<D>((bits & kMantissaMask) | kOneBits);
  D e = BitCast<D>((bits >> 52) | kTwo52Bits) - kTwo52PlusBias;
  const U big = BitCast<U>(m > kSqrt2);  // all ones where true
  m = BitCast<D>((big & BitCast<U>(m * 0.5)) | (~big & BitCast<U>(m)));
  e = BitCast<D>((big & BitCast<U>(e + 1.0)) | (~big & BitCast<U>(e)));
  const D f = (m - 1.0) / (m + 1.0);
  const D log_m = f * SeriesInS(f * f);
  const D result = (e * kLn2Hi + (log_m + e * kLn2Lo)) * kInvLn10;
  const U finite = BitCast<U>(x < std::numeric_limits<double>::infinity());
  return BitCast<D>((finite & BitCast<U>(result)) | (~finite & BitCast<U>(x)));
}
#endif

/// out[i] = log10(in[i]), W values per step (W = 1 or a vector width), the rest one at a time; the same
/// bits for every W. in may equal out.
template <int W>
void Log10Array(const double* in, double* out, int64_t n) {
  int64_t i = 0;
#if QAE_LANE_VECTORS
  if (W > 1) {
    typedef typename Doubles<W>::type D;
    for (; i + W <= n; i += W) {
      D x;
      std::memcpy(&x, in + i, sizeof(x));
      const D y = Log10Vec<W>(x);
      std::memcpy(out + i, &y, sizeof(y));
    }
  }
#endif
  for (; i < n; ++i) out[i] = Log10One(in[i]);
}

// ---------------------------------------------------------------------------------------------
// One log-mel step for L frames (log_mel.h): window, FFT power, mel, max(mel, floor), log10, to float.

template <int L>
void LogMelLanes(const LogMelComputer& computer, const float* const* frames, float* const* outs, double* work) {
  const LogMelOptions& opts = computer.Options();
  const Rfft& fft = computer.Fft();
  const int32_t n = opts.n_fft;
  const double* window = computer.Window().data();
  double* fft_work = work;  // lane-interleaved: sample i of frame l at [i * L + l]
  double* power = work + L * fft.WorkSize();
  double* mel = power + L * fft.NumBins();
  for (int32_t i = 0; i < n; ++i) {
    for (int l = 0; l < L; ++l) fft_work[i * L + l] = static_cast<double>(frames[l][i]) * window[i];
  }
  FftPowerLanes<L>(fft, fft_work, power, fft_work);
  MelLanes<L>(computer.Filterbank(), power, mel);
  const int32_t count = opts.n_mels * L;
  const double floor = opts.log_floor;
  for (int32_t i = 0; i < count; ++i) {
    mel[i] = floor > mel[i] ? floor : mel[i];  // max(mel, floor); a NaN stays NaN, as with numpy.maximum
  }
  Log10Array<(L > 1 ? L : 2)>(mel, mel, count);
  for (int l = 0; l < L; ++l) {
    float* out = outs[l];
    for (int32_t m = 0; m < opts.n_mels; ++m) out[m] = static_cast<float>(mel[m * L + l]);
  }
}

}  // namespace
}  // namespace qae

#endif  // QWEN_ASR_EDGE_CPP_EXT_CORE_LANE_KERNELS_H_
