// Copyright 2026 qwen-asr-edge authors. Apache-2.0.

#include "core/log_mel.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "core/check.h"
#include "core/log10.h"

namespace qae {
namespace {

constexpr double kPi = 3.14159265358979323846264338327950288;

std::vector<double> PeriodicHann(int32_t n) {
  std::vector<double> window(n);
  for (int32_t i = 0; i < n; ++i) window[i] = 0.5 - 0.5 * std::cos(2.0 * kPi * i / n);
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
  QAE_CHECK(lanes >= 1 && lanes <= kMaxLanes, "log-mel: lanes must be 1 or " << kMaxLanes << ", got " << lanes);
  const int32_t n = opts_.n_fft;
  double* fft_work = work;  // lane-interleaved: sample i of frame l at [i * lanes + l]
  double* power = work + kMaxLanes * rfft_.WorkSize();
  double* mel = power + kMaxLanes * rfft_.NumBins();
  if (lanes == 2) {  // the common case, written out so that it vectorises
    const float* frame0 = frames[0];
    const float* frame1 = frames[1];
    for (int32_t i = 0; i < n; ++i) {
      fft_work[2 * i] = static_cast<double>(frame0[i]) * window_[i];
      fft_work[2 * i + 1] = static_cast<double>(frame1[i]) * window_[i];
    }
  } else {
    for (int l = 0; l < lanes; ++l) {
      const float* frame = frames[l];
      for (int32_t i = 0; i < n; ++i) fft_work[i * lanes + l] = static_cast<double>(frame[i]) * window_[i];
    }
  }
  rfft_.ComputePowerLanes(lanes, fft_work, power, fft_work);
  filterbank_.ApplyLanes(lanes, power, mel);
  const int32_t count = opts_.n_mels * lanes;
  const double floor = opts_.log_floor;
  for (int32_t i = 0; i < count; ++i) {
    mel[i] = floor > mel[i] ? floor : mel[i];  // max(mel, floor); a NaN stays NaN, as with numpy.maximum
  }
  Log10Positive(mel, mel, count);
  for (int l = 0; l < lanes; ++l) {
    float* out = outs[l];
    for (int32_t m = 0; m < opts_.n_mels; ++m) out[m] = static_cast<float>(mel[m * lanes + l]);
  }
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

float MaxLogMel(const float* data, int64_t count) {
  float max_value = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < count; ++i) {
    if (std::isnan(data[i])) return data[i];
    max_value = std::max(max_value, data[i]);
  }
  return max_value;
}

void NormalizeLogMel(const float* in, float* out, int64_t count, double max_value) {
  const double threshold = max_value - kLogMelDynamicRange;
  for (int64_t i = 0; i < count; ++i) {
    const double x = in[i];
    // numpy.maximum semantics: NaN in either operand gives NaN.
    const double clamped = (std::isnan(x) || x >= threshold) ? x : threshold;
    out[i] = static_cast<float>((clamped + kLogMelOffset) / kLogMelScale);
  }
}

void NormalizeLogMel(float* data, int64_t count) {
  NormalizeLogMel(data, data, count, MaxLogMel(data, count));
}

}  // namespace qae
