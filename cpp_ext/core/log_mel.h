// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// Whisper log-mel features exactly as runtime/features.py (the numpy reference) and transformers'
// WhisperFeatureExtractor compute them. For N samples at 16 kHz:
//   frame f = samples [160 f - 200, 160 f + 200) of the signal reflect-padded by 200 on each side
//             (torch.stft(center=True) / numpy.pad(mode="reflect"), no edge repeat)
//   T = N / 160 frames (the centred STFT has N / 160 + 1; the last one is dropped)
//   periodic Hann(400) window, 400-point real FFT (not padded to 512), power |X|^2 (201 bins)
//   128-band Slaney mel filterbank (mel_filterbank.h), log10(max(mel, 1e-10))
// are computed in double per frame and stored as float; that "unclamped log-mel" is what the
// streaming extractor emits. The model input then needs the per-utterance normalisation
//   x = (max(x, max_all(x) - 8) + 4) / 4                                   (NormalizeLogMel)
// whose max is global: see streaming_log_mel.h for how streaming consumers apply it.
//
// Layout: frame-major [T, n_mels] (a frame's n_mels values are contiguous), which is the
// Fortran-order [n_mels, T] array that features.py returns.
//
// Determinism: every frame, offline or streaming, goes through the same arithmetic
// (lane_kernels.h: several frames per step in SIMD lanes, 8 with AVX-512, 4 with AVX2, 2 elsewhere, with
// per-lane arithmetic identical to one frame), so the same input samples give bit-identical
// output. Build with -ffp-contract=off (setup.py does) so that no compiler fuses a multiply and an
// add in one place and not in another (and ARM gives the same numbers as x86).

#ifndef QWEN_ASR_EDGE_CPP_EXT_CORE_LOG_MEL_H_
#define QWEN_ASR_EDGE_CPP_EXT_CORE_LOG_MEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/mel_filterbank.h"
#include "core/rfft.h"

namespace qae {

struct LogMelOptions {
  int32_t sample_rate = 16000;
  int32_t n_fft = 400;       // window length = FFT length; even; centre padding n_fft / 2
  int32_t hop_length = 160;
  int32_t n_mels = 128;
  double log_floor = 1e-10;  // log10(max(mel, log_floor))

  /// Throws std::runtime_error unless the options are usable.
  void Validate() const;
  std::string ToString() const;
};

/// Normalisation constants of Whisper's feature extractor.
constexpr double kLogMelDynamicRange = 8.0;  // clamp to max - 8 (80 dB below the loudest bin)
constexpr double kLogMelOffset = 4.0;        // (x + 4) / 4
constexpr double kLogMelScale = 4.0;

/// Frames of a whole utterance of num_samples samples: num_samples / hop_length.
int64_t NumFrames(int64_t num_samples, const LogMelOptions& opts);

/// Index into a signal of n samples of position i of its reflect-padded extension (numpy "reflect",
/// repeated as numpy does when the padding exceeds the signal: period 2 * (n - 1)). n >= 1.
int64_t ReflectIndex(int64_t i, int64_t n);

/// One frame: window, FFT, power, mel, log10. Immutable after construction and shareable by threads
/// (scratch is the caller's).
class LogMelComputer {
 public:
  explicit LogMelComputer(const LogMelOptions& opts = LogMelOptions());

  const LogMelOptions& Options() const { return opts_; }
  int32_t Dim() const { return opts_.n_mels; }
  /// Doubles of scratch Compute() and ComputeLanes() need.
  int32_t WorkSize() const;
  const MelFilterbank& Filterbank() const { return filterbank_; }
  const std::vector<double>& Window() const { return window_; }
  const Rfft& Fft() const { return rfft_; }

  /// frame: n_fft samples (already padded at the edges); out: n_mels unclamped log10 mel values;
  /// work: WorkSize() doubles.
  void Compute(const float* frame, float* out, double* work) const;
  /// `lanes` (1 .. kMaxLanes) frames at once, SIMD across frames; frames[l] -> outs[l]. Each result
  /// is bit-identical to Compute() of that frame alone.
  void ComputeLanes(int lanes, const float* const* frames, float* const* outs, double* work) const;

  /// Frames per ComputeLanes call that use the SIMD width fully (callers batch this many).
  static constexpr int kMaxLanes = 8;

 private:
  LogMelOptions opts_;
  std::vector<double> window_;  // periodic Hann: 0.5 - 0.5 cos(2 pi n / n_fft)
  Rfft rfft_;
  MelFilterbank filterbank_;
};

/// Which SIMD step computes the frames on this CPU, e.g. "avx2, 4 frames per step".
std::string LogMelSimd();

/// The computer for the default options (Qwen3-ASR / Whisper large-v3: 128 mels), built once.
const LogMelComputer& DefaultLogMelComputer();

/// Unclamped log-mel of a whole utterance: out has NumFrames(n) * n_mels floats, frame-major.
void ComputeLogMel(const LogMelComputer& computer, const float* samples, int64_t n, float* out);
std::vector<float> ComputeLogMel(const float* samples, int64_t n, const LogMelOptions& opts = LogMelOptions());

/// Largest value (-infinity for count == 0; NaN if any value is NaN).
float MaxLogMel(const float* data, int64_t count);

/// out[i] = (max(in[i], max_value - 8) + 4) / 4, in double, rounded to float. in may equal out.
/// Offline: max_value = MaxLogMel(all frames). Streaming: the running max (see streaming_log_mel.h).
void NormalizeLogMel(const float* in, float* out, int64_t count, double max_value);
/// In place with the global max of data.
void NormalizeLogMel(float* data, int64_t count);

}  // namespace qae

#endif  // QWEN_ASR_EDGE_CPP_EXT_CORE_LOG_MEL_H_
