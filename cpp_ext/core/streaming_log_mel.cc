// Copyright 2026 qwen-asr-edge authors. Apache-2.0.

#include "core/streaming_log_mel.h"

#include <algorithm>
#include <cstdlib>
#include <limits>

#include "core/check.h"

namespace qae {
namespace {

// Large pieces are appended in chunks so that the buffer stays small whatever the piece size.
constexpr int64_t kChunkSamples = 8192;

}  // namespace

StreamingLogMel::StreamingLogMel(const LogMelOptions& opts)
    : computer_(opts),
      work_(computer_.WorkSize()),
      edge_(static_cast<size_t>(LogMelComputer::kMaxLanes) * opts.n_fft),
      max_(-std::numeric_limits<float>::infinity()) {}

int64_t StreamingLogMel::SamplesNeeded(int64_t frame) const {
  const LogMelOptions& opts = computer_.Options();
  const int64_t half = opts.n_fft / 2;
  // The last sample frame f reads is hop*f + half - 1; frame 0's left padding mirrors samples
  // 1..half, so it also needs sample index `half`.
  return std::max(frame * opts.hop_length + half, half + 1);
}

void StreamingLogMel::AcceptWaveform(const float* samples, int64_t n) {
  QAE_CHECK(!finished_, "streaming log-mel: AcceptWaveform() after InputFinished()");
  QAE_CHECK(n >= 0, "streaming log-mel: negative sample count " << n);
  while (n > 0) {
    const int64_t take = std::min(n, kChunkSamples);
    buffer_.insert(buffer_.end(), samples, samples + take);
    samples += take;
    n -= take;
    ComputeFrames();
  }
}

void StreamingLogMel::InputFinished() {
  if (finished_) return;
  finished_ = true;
  ComputeFrames();
}

void StreamingLogMel::ComputeFrames() {
  const LogMelOptions& opts = computer_.Options();
  const int64_t received = NumSamplesAccepted();
  const int64_t half = opts.n_fft / 2;
  const int64_t dim = opts.n_mels;
  const int64_t total = NumFrames(received, opts);  // the count if the stream ended now
  const auto ready = [&](int64_t f) { return f < total && (finished_ || received >= SamplesNeeded(f)); };
  while (ready(num_ready_)) {
    // Up to kMaxLanes final frames per call (SIMD across frames, same bits as one at a time).
    const float* frames[LogMelComputer::kMaxLanes];
    float* outs[LogMelComputer::kMaxLanes];
    int lanes = 0;
    for (; lanes < LogMelComputer::kMaxLanes && ready(num_ready_ + lanes); ++lanes) {
      const int64_t start = (num_ready_ + lanes) * opts.hop_length - half;
      if (start >= 0 && start + opts.n_fft <= received) {
        frames[lanes] = buffer_.data() + (start - buffer_offset_);
        continue;
      }
      // Edge frame. Before the end only the left edge can be short (the frame is final, so the
      // mirrored index -i <= half < received, as ReflectIndex gives for the final length); at the
      // end the length is known and ReflectIndex pads both sides exactly as ComputeLogMel does.
      float* edge = edge_.data() + static_cast<size_t>(lanes) * opts.n_fft;
      for (int64_t i = 0; i < opts.n_fft; ++i) {
        const int64_t index = finished_ ? ReflectIndex(start + i, received) : std::abs(start + i);
        edge[i] = buffer_[index - buffer_offset_];
      }
      frames[lanes] = edge;
    }
    const size_t first = frames_.size();
    frames_.resize(first + static_cast<size_t>(lanes) * dim);
    for (int l = 0; l < lanes; ++l) outs[l] = frames_.data() + first + static_cast<size_t>(l) * dim;
    computer_.ComputeLanes(lanes, frames, outs, work_.data());
    for (size_t i = first; i < frames_.size(); ++i) max_ = std::max(max_, frames_[i]);
    num_ready_ += lanes;
  }
  DropUnneededSamples();
}

void StreamingLogMel::DropUnneededSamples() {
  // Frames >= num_ready_ read samples from hop*num_ready_ - half on (frames 0 and 1 mirror samples
  // from index 1 on, hence the clamp at 0); at the end the tail padding mirrors samples >= N - half.
  const LogMelOptions& opts = computer_.Options();
  int64_t keep = std::max<int64_t>(0, num_ready_ * opts.hop_length - opts.n_fft / 2);
  if (finished_) keep = NumSamplesAccepted();  // nothing more will be computed
  keep = std::min(keep, NumSamplesAccepted());
  if (keep > buffer_offset_) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + (keep - buffer_offset_));
    buffer_offset_ = keep;
  }
}

const float* StreamingLogMel::GetFrame(int64_t frame) const {
  QAE_CHECK(frame >= num_popped_ && frame < num_ready_,
            "streaming log-mel: frame " << frame << " is not in [" << num_popped_ << ", " << num_ready_ << ")");
  return frames_.data() + frames_head_ + (frame - num_popped_) * computer_.Dim();
}

void StreamingLogMel::Pop(int64_t num_frames) {
  QAE_CHECK(num_frames >= 0, "streaming log-mel: negative pop count " << num_frames);
  num_frames = std::min(num_frames, num_ready_ - num_popped_);
  num_popped_ += num_frames;
  frames_head_ += static_cast<size_t>(num_frames) * computer_.Dim();
  if (frames_head_ * 2 >= frames_.size()) {  // amortised O(1) per frame
    frames_.erase(frames_.begin(), frames_.begin() + frames_head_);
    frames_head_ = 0;
  }
}

}  // namespace qae
