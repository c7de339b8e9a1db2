// Copyright 2026 qwen-asr-edge authors. Apache-2.0.

#include "jni/jni_support.h"

#include <cmath>
#include <limits>

namespace qae {
namespace jni {

void ThrowJava(JNIEnv* env, const char* class_name, const std::string& message) {
  if (env->ExceptionCheck()) return;  // keep the first exception; no JNI calls are allowed while one is pending
  jclass cls = env->FindClass(class_name);
  if (cls == nullptr) return;  // FindClass left NoClassDefFoundError pending
  env->ThrowNew(cls, message.c_str());
  env->DeleteLocalRef(cls);
}

void ThrowCurrentAsJava(JNIEnv* env) {
  try {
    throw;
  } catch (const JavaExceptionPending&) {
  } catch (const InvalidArgument& e) {
    ThrowJava(env, "java/lang/IllegalArgumentException", e.what());
  } catch (const InvalidState& e) {
    ThrowJava(env, "java/lang/IllegalStateException", e.what());
  } catch (const std::bad_alloc&) {
    ThrowJava(env, "java/lang/OutOfMemoryError", "qwen-asr-edge native code: out of memory");
  } catch (const std::runtime_error& e) {
    ThrowJava(env, "java/lang/IllegalStateException", e.what());
  } catch (const std::exception& e) {
    ThrowJava(env, "java/lang/RuntimeException", e.what());
  } catch (...) {
    ThrowJava(env, "java/lang/RuntimeException", "qwen-asr-edge native code: unknown C++ exception");
  }
}

std::vector<float> ReadSamples(JNIEnv* env, jfloatArray samples, jint offset, jint length, const char* what) {
  if (samples == nullptr) throw InvalidArgument(std::string(what) + " must not be null");
  const jsize size = env->GetArrayLength(samples);
  if (offset < 0 || length < 0 || static_cast<int64_t>(offset) + length > size) {
    throw InvalidArgument(std::string(what) + ": range [" + std::to_string(offset) + ", " +
                          std::to_string(static_cast<int64_t>(offset) + length) + ") is outside an array of " +
                          std::to_string(size));
  }
  std::vector<float> values(static_cast<size_t>(length));
  env->GetFloatArrayRegion(samples, offset, length, values.data());
  if (env->ExceptionCheck()) throw JavaExceptionPending();
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      throw InvalidArgument(std::string(what) + ": sample " + std::to_string(offset + static_cast<int64_t>(i)) +
                            " is NaN or infinite");
    }
  }
  return values;
}

jfloatArray NewFloatArray(JNIEnv* env, const std::vector<float>& values, const char* what) {
  if (values.size() > static_cast<size_t>(std::numeric_limits<jsize>::max())) {
    throw InvalidArgument(std::string(what) + ": " + std::to_string(values.size()) +
                          " values do not fit in a Java array (use shorter audio)");
  }
  const jsize size = static_cast<jsize>(values.size());
  jfloatArray array = env->NewFloatArray(size);
  if (array == nullptr) throw JavaExceptionPending();  // OutOfMemoryError is pending
  env->SetFloatArrayRegion(array, 0, size, values.data());
  if (env->ExceptionCheck()) throw JavaExceptionPending();
  return array;
}

}  // namespace jni
}  // namespace qae
