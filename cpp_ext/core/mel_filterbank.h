// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// Slaney-scale, Slaney-normalised triangular mel filterbank over 0 .. sample_rate/2: the matrix of
// librosa.filters.mel(htk=False, norm="slaney"), transformers' mel_filter_bank(norm="slaney",
// mel_scale="slaney") and runtime/features.py mel_filters(), computed with the same double
// formulas in the same order:
//   hz_to_mel(f) = f / (200/3)                                   for f <  1000 Hz
//                = 15 + ln(f / 1000) / (ln(6.4) / 27)              for f >= 1000 Hz
//   edges[i]   = mel_to_hz(i * mel(sr/2) / (n_mels + 1)), i = 0 .. n_mels + 1
//   W[k, m]    = max(0, min((f_k - e_m) / (e_{m+1} - e_m), (e_{m+2} - f_k) / (e_{m+2} - e_{m+1})))
//                * 2 / (e_{m+2} - e_m),                           f_k = k * (sr/2) / (n_fft/2)
// Each band is a contiguous run of bins, stored sparsely (128 bands x 201 bins has ~400 non-zeros),
// so applying it costs a few hundred multiply-adds instead of a dense 201 x 128 product.

#ifndef QWEN_ASR_EDGE_CPP_EXT_CORE_MEL_FILTERBANK_H_
#define QWEN_ASR_EDGE_CPP_EXT_CORE_MEL_FILTERBANK_H_

#include <cstdint>
#include <vector>

namespace qae {

/// Slaney mel scale (linear below 1 kHz, logarithmic above), as in runtime/features.py.
double HzToMelSlaney(double hz);
double MelToHzSlaney(double mel);

class MelFilterbank {
 public:
  MelFilterbank(int32_t n_mels, int32_t n_fft, int32_t sample_rate);

  int32_t NumMels() const { return n_mels_; }
  /// Number of FFT bins the filterbank reads, n_fft/2 + 1.
  int32_t NumBins() const { return n_bins_; }
  /// Total stored weights (non-zero run of every band).
  int64_t NumWeights() const { return static_cast<int64_t>(weights_.size()); }

  /// Dense matrix [NumBins(), NumMels()], row-major, zeros included (equals features.mel_filters()).
  std::vector<double> Dense() const;

  /// Band m's non-zero run: BandSize(m) weights for the bins FirstBin(m) onwards (applied in lane_kernels.h:
  /// mel[m] = sum_i BandWeights(m)[i] * power[FirstBin(m) + i]).
  int32_t FirstBin(int32_t m) const { return first_bin_[m]; }
  int32_t BandSize(int32_t m) const { return offset_[m + 1] - offset_[m]; }
  const double* BandWeights(int32_t m) const { return weights_.data() + offset_[m]; }

 private:
  int32_t n_mels_;
  int32_t n_bins_;
  std::vector<int32_t> first_bin_;  // [n_mels] first bin of the band's run
  std::vector<int32_t> offset_;     // [n_mels + 1] start of the band's run in weights_
  std::vector<double> weights_;
};

}  // namespace qae

#endif  // QWEN_ASR_EDGE_CPP_EXT_CORE_MEL_FILTERBANK_H_
