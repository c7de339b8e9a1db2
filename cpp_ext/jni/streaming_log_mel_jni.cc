// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// Natives of io.github.qwenasredge.StreamingLogMel (java/io/github/qwenasredge/StreamingLogMel.java) over
// core/streaming_log_mel.h. The Java object owns one heap-allocated qae::StreamingLogMel through a jlong
// handle: nativeCreate allocates it, nativeDestroy frees it (the Java side zeroes its handle and
// serialises calls, so a handle is never used after it is freed); every other call with handle 0 throws
// IllegalStateException. Popped frames are frame-major [k][n_mels] (a frame's n_mels values contiguous),
// as they come out of a stream one frame at a time.

#include <jni.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/log_mel.h"
#include "core/streaming_log_mel.h"
#include "jni/jni_support.h"

namespace {

qae::StreamingLogMel& StreamOf(jlong handle) {
  if (handle == 0) throw qae::jni::InvalidState("streaming log-mel: the stream was closed");
  return *reinterpret_cast<qae::StreamingLogMel*>(handle);
}

std::vector<float> PopFrames(qae::StreamingLogMel& stream, jint max_frames, bool normalized) {
  if (max_frames < 0) {
    throw qae::jni::InvalidArgument("streaming log-mel: maxFrames must be >= 0, got " + std::to_string(max_frames));
  }
  const int64_t count = std::min<int64_t>(stream.NumFramesReady() - stream.NumFramesPopped(), max_frames);
  const int64_t dim = stream.Dim();
  std::vector<float> out(static_cast<size_t>(count * dim));
  for (int64_t i = 0; i < count; ++i) {
    const float* frame = stream.GetFrame(stream.NumFramesPopped() + i);
    if (normalized) {
      qae::NormalizeLogMel(frame, out.data() + i * dim, dim, stream.MaxLogMel());
    } else {
      std::memcpy(out.data() + i * dim, frame, sizeof(float) * dim);
    }
  }
  stream.Pop(count);
  return out;
}

}  // namespace

extern "C" {

JNIEXPORT jlong JNICALL Java_io_github_qwenasredge_StreamingLogMel_nativeCreate(JNIEnv* env, jclass) {
  return qae::jni::Guarded<jlong>(env, 0, [] { return reinterpret_cast<jlong>(new qae::StreamingLogMel()); });
}

JNIEXPORT void JNICALL Java_io_github_qwenasredge_StreamingLogMel_nativeDestroy(JNIEnv*, jclass, jlong handle) {
  delete reinterpret_cast<qae::StreamingLogMel*>(handle);
}

JNIEXPORT void JNICALL Java_io_github_qwenasredge_StreamingLogMel_nativeAcceptWaveform(JNIEnv* env, jclass,
                                                                                       jlong handle, jfloatArray samples,
                                                                                       jint offset, jint length) {
  qae::jni::GuardedVoid(env, [&] {
    qae::StreamingLogMel& stream = StreamOf(handle);
    const std::vector<float> piece =
        qae::jni::ReadSamples(env, samples, offset, length, "streaming log-mel: samples");
    stream.AcceptWaveform(piece.data(), static_cast<int64_t>(piece.size()));
  });
}

JNIEXPORT void JNICALL Java_io_github_qwenasredge_StreamingLogMel_nativeInputFinished(JNIEnv* env, jclass,
                                                                                      jlong handle) {
  qae::jni::GuardedVoid(env, [&] { StreamOf(handle).InputFinished(); });
}

JNIEXPORT jboolean JNICALL Java_io_github_qwenasredge_StreamingLogMel_nativeIsInputFinished(JNIEnv* env, jclass,
                                                                                            jlong handle) {
  return qae::jni::Guarded<jboolean>(env, JNI_FALSE,
                                     [&] { return StreamOf(handle).IsInputFinished() ? JNI_TRUE : JNI_FALSE; });
}

JNIEXPORT jlong JNICALL Java_io_github_qwenasredge_StreamingLogMel_nativeNumFramesReady(JNIEnv* env, jclass,
                                                                                       jlong handle) {
  return qae::jni::Guarded<jlong>(env, 0, [&] { return static_cast<jlong>(StreamOf(handle).NumFramesReady()); });
}

JNIEXPORT jlong JNICALL Java_io_github_qwenasredge_StreamingLogMel_nativeNumFramesPopped(JNIEnv* env, jclass,
                                                                                        jlong handle) {
  return qae::jni::Guarded<jlong>(env, 0, [&] { return static_cast<jlong>(StreamOf(handle).NumFramesPopped()); });
}

JNIEXPORT jfloat JNICALL Java_io_github_qwenasredge_StreamingLogMel_nativeMaxLogMel(JNIEnv* env, jclass,
                                                                                  jlong handle) {
  return qae::jni::Guarded<jfloat>(env, 0.0f, [&] { return StreamOf(handle).MaxLogMel(); });
}

JNIEXPORT jfloatArray JNICALL Java_io_github_qwenasredge_StreamingLogMel_nativePopFrames(JNIEnv* env, jclass,
                                                                                        jlong handle, jint max_frames,
                                                                                        jboolean normalized) {
  return qae::jni::Guarded<jfloatArray>(env, nullptr, [&] {
    return qae::jni::NewFloatArray(env, PopFrames(StreamOf(handle), max_frames, normalized == JNI_TRUE),
                                   "streaming log-mel: frames");
  });
}

}  // extern "C"
