// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// Natives of io.github.qwenasredge.LogMel (java/io/github/qwenasredge/LogMel.java): offline log-mel of a
// whole utterance with the default options (Qwen3-ASR: 16 kHz, 128 mels). Results are [n_mels][T]
// row-major (mel bin m of frame t at m * T + t), i.e. the C-order array of features.py's [128, T] result;
// the core computes frame-major, so the frames are transposed once on the way out.

#include <jni.h>

#include <string>
#include <vector>

#include "core/log_mel.h"
#include "jni/jni_support.h"

namespace {

jfloatArray LogMelOf(JNIEnv* env, jfloatArray samples, bool normalize) {
  using qae::jni::ReadSamples;
  const std::vector<float> audio =
      ReadSamples(env, samples, 0, samples == nullptr ? 0 : env->GetArrayLength(samples), "log-mel: samples");
  const qae::LogMelComputer& computer = qae::DefaultLogMelComputer();
  const int64_t n = static_cast<int64_t>(audio.size());
  const int64_t num_frames = qae::NumFrames(n, computer.Options());
  const int64_t dim = computer.Dim();
  std::vector<float> frames(static_cast<size_t>(num_frames * dim));
  qae::ComputeLogMel(computer, audio.data(), n, frames.data());
  if (normalize) qae::NormalizeLogMel(frames.data(), num_frames * dim);
  std::vector<float> mel_major(frames.size());
  for (int64_t t = 0; t < num_frames; ++t) {
    for (int64_t m = 0; m < dim; ++m) mel_major[m * num_frames + t] = frames[t * dim + m];
  }
  return qae::jni::NewFloatArray(env, mel_major, "log-mel");
}

}  // namespace

extern "C" {

JNIEXPORT jfloatArray JNICALL Java_io_github_qwenasredge_LogMel_nativeLogMel(JNIEnv* env, jclass, jfloatArray samples,
                                                                              jboolean normalize) {
  return qae::jni::Guarded<jfloatArray>(env, nullptr, [&] { return LogMelOf(env, samples, normalize == JNI_TRUE); });
}

JNIEXPORT jstring JNICALL Java_io_github_qwenasredge_LogMel_nativeSimd(JNIEnv* env, jclass) {
  return qae::jni::Guarded<jstring>(env, nullptr, [&] {
    jstring text = env->NewStringUTF(qae::LogMelSimd().c_str());
    if (text == nullptr) throw qae::jni::JavaExceptionPending();
    return text;
  });
}

}  // extern "C"
