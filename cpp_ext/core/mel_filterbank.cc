// Copyright 2026 qwen-asr-edge authors. Apache-2.0.

#include "core/mel_filterbank.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"

namespace qae {
namespace {

constexpr double kMinLogHz = 1000.0;
constexpr double kMinLogMel = 15.0;     // kMinLogHz / (200/3)
constexpr double kHzPerMel = 200.0 / 3;

double LogStep() { return std::log(6.4) / 27.0; }

// numpy.linspace(start, stop, num)[i]: start + i * ((stop - start) / (num - 1)), last = stop.
double Linspace(double start, double stop, int64_t num, int64_t i) {
  if (i == num - 1) return stop;
  return static_cast<double>(i) * ((stop - start) / static_cast<double>(num - 1)) + start;
}

}  // namespace

double HzToMelSlaney(double hz) {
  if (hz >= kMinLogHz) return kMinLogMel + std::log(std::max(hz, 1e-10) / kMinLogHz) / LogStep();
  return hz / kHzPerMel;
}

double MelToHzSlaney(double mel) {
  if (mel >= kMinLogMel) return kMinLogHz * std::exp(LogStep() * (mel - kMinLogMel));
  return mel * kHzPerMel;
}

MelFilterbank::MelFilterbank(int32_t n_mels, int32_t n_fft, int32_t sample_rate)
    : n_mels_(n_mels), n_bins_(n_fft / 2 + 1) {
  QAE_CHECK(n_mels >= 1, "mel filterbank: n_mels must be >= 1, got " << n_mels);
  QAE_CHECK(n_fft >= 2 && n_fft % 2 == 0, "mel filterbank: n_fft must be even and >= 2, got " << n_fft);
  QAE_CHECK(sample_rate >= 2, "mel filterbank: bad sample rate " << sample_rate);
  const double nyquist = static_cast<double>(sample_rate / 2);  // integer division, as features.py
  std::vector<double> freqs(n_bins_), edges(n_mels + 2);
  for (int32_t k = 0; k < n_bins_; ++k) freqs[k] = Linspace(0.0, nyquist, n_bins_, k);
  const double mel_max = HzToMelSlaney(static_cast<double>(sample_rate) / 2.0);
  const double mel_min = HzToMelSlaney(0.0);
  for (int32_t i = 0; i < n_mels + 2; ++i) edges[i] = MelToHzSlaney(Linspace(mel_min, mel_max, n_mels + 2, i));

  offset_.push_back(0);
  for (int32_t m = 0; m < n_mels; ++m) {
    const double lower_width = edges[m + 1] - edges[m];
    const double upper_width = edges[m + 2] - edges[m + 1];
    const double enorm = 2.0 / (edges[m + 2] - edges[m]);
    std::vector<double> band(n_bins_);
    int32_t first = -1, last = -1;
    for (int32_t k = 0; k < n_bins_; ++k) {
      const double down = -(edges[m] - freqs[k]) / lower_width;
      const double up = (edges[m + 2] - freqs[k]) / upper_width;
      band[k] = std::max(0.0, std::min(down, up)) * enorm;
      if (band[k] > 0.0) {
        if (first < 0) first = k;
        last = k;
      }
    }
    // A narrow band can fall between two bins and have no weights at all (its mel value is 0).
    first_bin_.push_back(std::max(first, 0));
    if (first >= 0) weights_.insert(weights_.end(), band.begin() + first, band.begin() + last + 1);
    offset_.push_back(static_cast<int32_t>(weights_.size()));
  }
}

std::vector<double> MelFilterbank::Dense() const {
  std::vector<double> dense(static_cast<size_t>(n_bins_) * n_mels_, 0.0);
  for (int32_t m = 0; m < n_mels_; ++m) {
    for (int32_t i = offset_[m]; i < offset_[m + 1]; ++i) {
      dense[static_cast<size_t>(first_bin_[m] + i - offset_[m]) * n_mels_ + m] = weights_[i];
    }
  }
  return dense;
}

}  // namespace qae
