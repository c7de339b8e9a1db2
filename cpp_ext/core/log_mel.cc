// Copyright 2026 qwen-asr-edge authors. Apache-2.0.

#include "core/log_mel.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <sstream>

#include "core/check.h"
#include "core/lane_kernels.h"
#include "core/log_mel_simd.h"

namespace qae {
namespace {

std::vector<double> PeriodicHann(int32_t n) {
  std::vector<double> window(n);
  for (int32_t i = 0; i < n; ++i) window[i] = 0.5 - 0.5 * std::cos(2.0 * kLanePi * i / n);
  return window;
}

}  // namespace

void LogMelOptions::Validate() const {
  QAE_CHECK(n_fft >= 2 && n_fft % 2 == 0, "log-mel: n_fft must be even and >= 2, got " << n_fft);
  QAE_CHECK(hop_length >= 1, "log-mel: hop_length must be >= 1, got " << hop_length);
  QAE_CHECK(n_mels >= 1, "log-mel: n_mels must be >= 1, got " << n_mels);
  QAE_CHECK(sample_rate >= 2, "log-mel: bad sample_rate " << sample_rate);
  QAE_CHECK(log_floor >= std::numeric_limits<double>::min(),
            "log-mel: log_floor must be a positive normal number, got " << log_floor);
}

std::string LogMelOptions::ToString() const {
  std::ostringstream os;
  os << "LogMelOptions(sample_rate=" << sample_rate << ", n_fft=" << n_fft << ", hop_length=" << hop_length
     << ", n_mels=" << n_mels << ", log_floor=" << log_floor << ")";
  return os.str();
}

int64_t NumFrames(int64_t num_samples, const LogMelOptions& opts) {
  return num_samples <= 0 ? 0 : num_samples / opts.hop_length;
}

int64_t ReflectIndex(int64_t i, int64_t n) {
  if (n <= 1) return 0;
  const int64_t period = 2 * (n - 1);
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - i;
}

static LogMelOptions Validated(const LogMelOptions& opts) {
  opts.Validate();
  return opts;
}

LogMelComputer::LogMelComputer(const LogMelOptions& opts)
    : opts_(Validated(opts)),
      window_(PeriodicHann(opts.n_fft)),
      rfft_(opts.n_fft),
      filterbank_(opts.n_mels, opts.n_fft, opts.sample_rate) {}

int32_t LogMelComputer::WorkSize() const {
  // per lane: rfft scratch (the windowed frame is written into its first n_fft doubles), power, mel
  return kMaxLanes * (rfft_.WorkSize() + rfft_.NumBins() + opts_.n_mels);
}

void LogMelComputer::Compute(const float* frame, float* out, double* work) const {
  ComputeLanes(1, &frame, &out, work);
}

void LogMelComputer::ComputeLanes(int lanes, const float* const* frames, float* const* outs, double* work) const {
  QAE_CHECK(lanes >= 1 && lanes <= kMaxLanes, "log-mel: lanes must be 1 to " << kMaxLanes << ", got " << lanes);
  int done = 0;
#if QAE_HAVE_X86_SIMD_LOG_MEL
  if (lanes == 8 && Avx512LogMelAvailable()) {
    LogMelLanesAvx512(*this, frames, outs, work);
    return;
  }
  if (Avx2LogMelAvailable()) {
    for (; done + 4 <= lanes; done += 4) LogMelLanesAvx2(*this, frames + done, outs + done, work);
  }
#endif
  for (; done + 2 <= lanes; done += 2) LogMelLanes<2>(*this, frames + done, outs + done, work);
  if (done < lanes) LogMelLanes<1>(*this, frames + done, outs + done, work);
}

#if QAE_HAVE_X86_SIMD_LOG_MEL
namespace {

// The widest step QWEN_ASR_EDGE_MAX_SIMD allows: 2 (unset: AVX-512), 1 ("avx2"), 0 (anything else, e.g. "baseline").
int MaxSimdLevel() {
  const char* cap = std::getenv("QWEN_ASR_EDGE_MAX_SIMD");
  if (cap == nullptr || *cap == '\0') return 2;
  return std::strcmp(cap, "avx2") == 0 ? 1 : 0;
}

}  // namespace

bool Avx512LogMelAvailable() {
  static const bool available = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0 && MaxSimdLevel() >= 2;
  }();
  return available;
}

bool Avx2LogMelAvailable() {
  static const bool available = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0 && MaxSimdLevel() >= 1;
  }();
  return available;
}
#else
bool Avx512LogMelAvailable() { return false; }
bool Avx2LogMelAvailable() { return false; }
#endif

std::string LogMelSimd() {
  if (Avx512LogMelAvailable()) return "avx512, 8 frames per step";
  if (Avx2LogMelAvailable()) return "avx2, 4 frames per step";
#if QAE_LANE_VECTORS
  return "128-bit vectors, 2 frames per step";
#else
  return "scalar, 2 frames per step";
#endif
}

const LogMelComputer& DefaultLogMelComputer() {
  static const LogMelComputer computer{LogMelOptions()};
  return computer;
}

void ComputeLogMel(const LogMelComputer& computer, const float* samples, int64_t n, float* out) {
  const LogMelOptions& opts = computer.Options();
  const int64_t num_frames = NumFrames(n, opts);
  const int64_t half = opts.n_fft / 2;
  constexpr int kLanes = LogMelComputer::kMaxLanes;
  std::vector<double> work(computer.WorkSize());
  std::vector<float> edges(static_cast<size_t>(kLanes) * opts.n_fft);
  const float* frames[kLanes];
  float* outs[kLanes];
  for (int64_t f0 = 0; f0 < num_frames; f0 += kLanes) {
    const int lanes = static_cast<int>(std::min<int64_t>(kLanes, num_frames - f0));
    for (int l = 0; l < lanes; ++l) {
      const int64_t start = (f0 + l) * opts.hop_length - half;
      frames[l] = samples + start;
      if (start < 0 || start + opts.n_fft > n) {  // reflect-padded edge frame
        float* edge = edges.data() + static_cast<size_t>(l) * opts.n_fft;
        for (int64_t i = 0; i < opts.n_fft; ++i) edge[i] = samples[ReflectIndex(start + i, n)];
        frames[l] = edge;
      }
      outs[l] = out + (f0 + l) * opts.n_mels;
    }
    computer.ComputeLanes(lanes, frames, outs, work.data());
  }
}

std::vector<float> ComputeLogMel(const float* samples, int64_t n, const LogMelOptions& opts) {
  const LogMelComputer computer(opts);
  std::vector<float> out(static_cast<size_t>(NumFrames(n, opts)) * opts.n_mels);
  ComputeLogMel(computer, samples, n, out.data());
  return out;
}

namespace {

#if QAE_LANE_VECTORS
typedef float Floats __attribute__((vector_size(16)));  // four floats: SSE2 / NEON
typedef int32_t Ints __attribute__((vector_size(16)));
constexpr int kFloats = 4;
#endif

// Smallest float >= t, so that for a float x, x >= t (in double) exactly when x >= FloatCeil(t).
float FloatCeil(double t) {
  const float f = static_cast<float>(t);
  return static_cast<double>(f) < t ? std::nextafter(f, std::numeric_limits<float>::infinity()) : f;
}

}  // namespace

float MaxLogMel(const float* data, int64_t count) {
  float max_value = -std::numeric_limits<float>::infinity();
  bool nan = false;
  int64_t i = 0;
#if QAE_LANE_VECTORS
  Floats maxima = Floats{} + max_value;
  Ints nans = Ints{};
  for (; i + kFloats <= count; i += kFloats) {
    Floats x;
    std::memcpy(&x, data + i, sizeof(x));
    nans |= x != x;
    maxima = x > maxima ? x : maxima;
  }
  for (int l = 0; l < kFloats; ++l) {
    nan |= nans[l] != 0;
    max_value = std::max(max_value, maxima[l]);
  }
#endif
  for (; i < count; ++i) {
    nan |= data[i] != data[i];
    max_value = data[i] > max_value ? data[i] : max_value;
  }
  return nan ? std::numeric_limits<float>::quiet_NaN() : max_value;
}

// (max(x, t) + 4) / 4 with t = max_value - 8, computed in float with the bits of the double formula:
// x + 4 and max_value - 4 are exact in double and rounded once here as there, and / 4 is exact.
void NormalizeLogMel(const float* in, float* out, int64_t count, double max_value) {
  static_assert(kLogMelScale == 4.0, "the division by the scale must be exact (a power of two)");
  const float offset = static_cast<float>(kLogMelOffset), scale = static_cast<float>(kLogMelScale);
  const float threshold = FloatCeil(max_value - kLogMelDynamicRange);
  const float clamped_value = static_cast<float>(max_value - kLogMelDynamicRange + kLogMelOffset) / scale;
  int64_t i = 0;
#if QAE_LANE_VECTORS
  for (; i + kFloats <= count; i += kFloats) {
    Floats x;
    std::memcpy(&x, in + i, sizeof(x));
    const Floats y = ((x >= threshold) | (x != x)) ? (x + offset) / scale : Floats{} + clamped_value;
    std::memcpy(out + i, &y, sizeof(y));
  }
#endif
  for (; i < count; ++i) {
    const float x = in[i];
    out[i] = (x >= threshold || x != x) ? (x + offset) / scale : clamped_value;  // numpy.maximum: NaN stays NaN
  }
}

void NormalizeLogMel(float* data, int64_t count) {
  NormalizeLogMel(data, data, count, MaxLogMel(data, count));
}

}  // namespace qae
