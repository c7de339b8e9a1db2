// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// Mixed-radix Stockham FFT; see rfft.h for the method. One pass of radix p over sub-transforms of
// length len = p * m, with s of them interleaved (element i of sub-transform q at q + s*i):
//   for j < m, q < s:  a_r = x[q + s*(j + r*m)],  b_u = sum_r a_r w_p^(r*u),
//                      y[q + s*(p*j + u)] = b_u * w_len^(j*u)
// after which the s*p interleaved sub-transforms of length m are transformed the same way; the
// output ends in natural order (no bit reversal).
//
// Buffers hold L lanes (independent transforms): complex element i is the block
// x[2*L*i .. 2*L*i + 2*L) = [re of lanes 0..L-1, im of lanes 0..L-1]. For L = 1 that is plain
// interleaved (re, im), and the packed real input x[2m], x[2m+1] of lane l sits at
// x[2m*L + l], x[(2m+1)*L + l]: a lane-interleaved real frame is already the complex input.

#include "core/rfft.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/check.h"

namespace qae {
namespace {

constexpr double kPi = 3.14159265358979323846264338327950288;

struct Cpx {
  double re;
  double im;
};

inline Cpx Load(const double* x, int64_t i) { return {x[2 * i], x[2 * i + 1]}; }
inline void Store(double* y, int64_t i, Cpx v) {
  y[2 * i] = v.re;
  y[2 * i + 1] = v.im;
}

// L complex values, one per lane. Every operation works lane by lane, in the same order for all L.
// With GCC/Clang a lane group is a vector-extension type, so the arithmetic becomes SSE2/NEON
// instructions (each lane rounds exactly as scalar code would); other compilers get plain arrays.
// Two lanes fill a 128-bit register; four were slower without AVX.
#if defined(__GNUC__) || defined(__clang__)
template <int L>
struct LaneGroup {
  typedef double type __attribute__((vector_size(sizeof(double) * L)));
};
template <int L>
struct V {
  typename LaneGroup<L>::type re;
  typename LaneGroup<L>::type im;
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
#else
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
#endif

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
  const double angle = 2.0 * kPi * static_cast<double>(t) / static_cast<double>(len);
  return {std::cos(angle), -std::sin(angle)};
}

// One pass with a radix-P butterfly `kernel(a, b)` (b = the P-point DFT of a). Twiddles are
// skipped for j = 0, where all of them are 1 (the result is the same: x * (1, 0) is exact).
template <int P, int L, typename Kernel>
void RadixPass(const double* x, double* y, int64_t m, int64_t s, const double* tw, Kernel kernel) {
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
  double c1 = std::cos(2.0 * kPi / 5.0), c2 = std::cos(4.0 * kPi / 5.0);
  double s1 = std::sin(2.0 * kPi / 5.0), s2 = std::sin(4.0 * kPi / 5.0);
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

template <int L>
const double* Rfft::ComplexFft(double* a, double* b) const {
  double* x = a;
  double* y = b;
  for (const Pass& pass : passes_) {
    const int64_t m = pass.length / pass.radix;
    const double* tw = twiddles_.data() + 2 * pass.twiddle_offset;
    switch (pass.radix) {
      case 2: RadixPass<2, L>(x, y, m, pass.stride, tw, Kernel2<L>()); break;
      case 3: RadixPass<3, L>(x, y, m, pass.stride, tw, Kernel3<L>()); break;
      case 4: RadixPass<4, L>(x, y, m, pass.stride, tw, Kernel4<L>()); break;
      case 5: RadixPass<5, L>(x, y, m, pass.stride, tw, Kernel5<L>()); break;
      default:
        RadixGeneric<L>(x, y, pass.radix, m, pass.stride, tw, roots_.data() + 2 * pass.root_offset);
    }
    std::swap(x, y);
  }
  return x;
}

namespace {

// Splits Z (the complex FFT of the packed real input, L lanes) into the n/2 + 1 bins of the real
// input and hands each bin to emit(k, V<L>). Z = E + iO with E, O the spectra of the even and odd
// samples: E[k] = (Z[k] + conj(Z[h-k])) / 2, O[k] = (Z[k] - conj(Z[h-k])) / 2i, X[k] = E + w^k O.
template <int L, typename Emit>
void SplitReal(const double* z, int64_t half, const double* split, Emit emit) {
  const V<L> z0 = LoadV<L>(z, 0);
  V<L> first, last;
  for (int l = 0; l < L; ++l) {
    first.re[l] = z0.re[l] + z0.im[l];
    last.re[l] = z0.re[l] - z0.im[l];
    first.im[l] = last.im[l] = 0.0;
  }
  emit(0, first);
  for (int64_t k = 1; k < half; ++k) {
    const V<L> zk = LoadV<L>(z, k);
    const V<L> zc = Conj(LoadV<L>(z, half - k));
    const V<L> even = Scale(Add(zk, zc), 0.5);
    const V<L> odd = Scale(MulNegI(Sub(zk, zc)), 0.5);
    emit(k, Add(even, Mul(odd, Load(split, k))));
  }
  emit(half, last);
}

}  // namespace

template <int L>
void Rfft::PowerLanes(const double* in, double* power, double* work) const {
  double* a = work;
  double* b = work + 2 * half_ * L;
  if (in != a) std::memcpy(a, in, sizeof(double) * 2 * half_ * L);
  const double* z = ComplexFft<L>(a, b);
  SplitReal<L>(z, half_, split_.data(), [power](int64_t k, const V<L>& v) {
    for (int l = 0; l < L; ++l) power[k * L + l] = v.re[l] * v.re[l] + v.im[l] * v.im[l];
  });
}

void Rfft::ComputePowerLanes(int lanes, const double* in, double* power, double* work) const {
  switch (lanes) {
    case 1: PowerLanes<1>(in, power, work); break;
    case 2: PowerLanes<2>(in, power, work); break;
    default: QAE_CHECK(false, "rfft: lanes must be 1 or 2, got " << lanes);
  }
}

void Rfft::ComputePower(const double* in, double* power, double* work) const {
  PowerLanes<1>(in, power, work);
}

void Rfft::Compute(const double* in, double* out, double* work) const {
  double* a = work;
  double* b = work + 2 * half_;
  if (in != a) std::memcpy(a, in, sizeof(double) * 2 * half_);
  const double* z = ComplexFft<1>(a, b);
  SplitReal<1>(z, half_, split_.data(), [out](int64_t k, const V<1>& v) { Store(out, k, Cpx{v.re[0], v.im[0]}); });
}

}  // namespace qae
