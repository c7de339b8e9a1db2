// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// Streaming Whisper log-mel: audio in pieces of any size, each frame emitted as soon as it is final,
// equal bit for bit to the offline ComputeLogMel() of the whole signal (same frames, same
// arithmetic through LogMelComputer::ComputeLanes). Modelled on kaldi-native-fbank's OnlineFeature API
// (AcceptWaveform / InputFinished / NumFramesReady / GetFrame / Pop).
//
// Timing (defaults: hop 160, n_fft 400, half = 200). Frame f covers samples [160 f - 200, 160 f + 200).
//   - Frame 0 is final once sample index 200 has arrived (201 samples: its left padding mirrors
//     samples 1..200); frame f >= 1 once 160 f + 200 samples have arrived.
//   - Frames that read past the end (at most one with the defaults: the last frame is dropped,
//     T = N / 160) are emitted by InputFinished(), reflect-padding the tail as the offline path does.
//   - Only the samples later frames still need are kept: fewer than 400 between calls.
//
// The clamp. Offline normalisation clamps every value to (M - 8) with M the max over the whole
// utterance, which a stream does not know yet. A streaming consumer normalises frame t with the
// running max m_t = MaxLogMel() at the time it uses the frame (m_t <= M):
//     offline(x) - streaming(x) = (max(x, M - 8) - max(x, m_t - 8)) / 4,
// which lies in [0, (M - m_t) / 4] and is exactly 0 wherever x >= M - 8, i.e. for every value
// within 80 dB of the loudest bin; once the loudest frame has been seen (m_t = M) all later frames
// are exact. Re-normalising kept frames with the final max gives the offline features exactly.
// (tests/test_features.py checks this bound.)

#ifndef QWEN_ASR_EDGE_CPP_EXT_CORE_STREAMING_LOG_MEL_H_
#define QWEN_ASR_EDGE_CPP_EXT_CORE_STREAMING_LOG_MEL_H_

#include <cstdint>
#include <vector>

#include "core/log_mel.h"

namespace qae {

/// Not thread-safe: one stream per thread (or external locking).
class StreamingLogMel {
 public:
  explicit StreamingLogMel(const LogMelOptions& opts = LogMelOptions());

  /// Appends n samples (any n >= 0) and computes every frame that became final.
  /// Throws std::runtime_error after InputFinished().
  void AcceptWaveform(const float* samples, int64_t n);
  /// Ends the stream: computes the remaining frames (reflect-padding the tail). Idempotent.
  void InputFinished();
  bool IsInputFinished() const { return finished_; }

  /// Frames computed so far (an absolute count: popping does not lower it).
  int64_t NumFramesReady() const { return num_ready_; }
  /// Frames discarded by Pop(); GetFrame() accepts [NumFramesPopped(), NumFramesReady()).
  int64_t NumFramesPopped() const { return num_popped_; }
  /// n_mels unclamped log10 mel values of an absolute frame index; valid until the next
  /// AcceptWaveform/InputFinished/Pop.
  const float* GetFrame(int64_t frame) const;
  /// Discards the oldest min(num_frames, ready - popped) kept frames.
  void Pop(int64_t num_frames);

  /// Running max of every value computed so far (-infinity before the first frame); the clamp
  /// reference for normalising streamed frames (see the note at the top of this file).
  float MaxLogMel() const { return max_; }

  int64_t NumSamplesAccepted() const { return buffer_offset_ + static_cast<int64_t>(buffer_.size()); }
  int64_t NumSamplesBuffered() const { return static_cast<int64_t>(buffer_.size()); }
  /// Samples that must have arrived before frame f can be computed without knowing the end.
  int64_t SamplesNeeded(int64_t frame) const;

  int32_t Dim() const { return computer_.Dim(); }
  const LogMelOptions& Options() const { return computer_.Options(); }

 private:
  void ComputeFrames();
  void DropUnneededSamples();

  LogMelComputer computer_;
  std::vector<double> work_;
  std::vector<float> edge_;     // assembled edge frames (kMaxLanes x n_fft samples)
  std::vector<float> buffer_;   // samples [buffer_offset_, buffer_offset_ + size)
  int64_t buffer_offset_ = 0;
  std::vector<float> frames_;   // frame-major; frames [num_popped_, num_ready_) from frames_head_
  size_t frames_head_ = 0;      // floats of popped frames not yet erased from frames_
  int64_t num_ready_ = 0;
  int64_t num_popped_ = 0;
  float max_;
  bool finished_ = false;
};

}  // namespace qae

#endif  // QWEN_ASR_EDGE_CPP_EXT_CORE_STREAMING_LOG_MEL_H_
