// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// What every JNI entry point of cpp_ext/jni shares: C++ failures turned into Java exceptions, and
// Java float[] arguments read into (and results written from) C++ vectors.
//
// Exception mapping (Guarded):
//   InvalidArgument (bad input found by the JNI layer)        -> java.lang.IllegalArgumentException
//   InvalidState (closed handle) and the core's runtime_error -> java.lang.IllegalStateException
//     (QAE_CHECK in the core guards API misuse, e.g. audio after input_finished)
//   std::bad_alloc                                            -> java.lang.OutOfMemoryError
//   any other std::exception                                  -> java.lang.RuntimeException
// A JNI call that failed with a Java exception already pending throws JavaExceptionPending, which
// Guarded lets through untouched.

#ifndef QWEN_ASR_EDGE_CPP_EXT_JNI_JNI_SUPPORT_H_
#define QWEN_ASR_EDGE_CPP_EXT_JNI_JNI_SUPPORT_H_

#include <jni.h>

#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

namespace qae {
namespace jni {

class InvalidArgument : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class InvalidState : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// A Java exception is already pending (raised by a JNI function); nothing more to throw.
class JavaExceptionPending : public std::exception {};

/// Throws a new exception of class_name (e.g. "java/lang/IllegalArgumentException") in the JVM.
void ThrowJava(JNIEnv* env, const char* class_name, const std::string& message);

/// Converts the C++ exception being handled (call only inside a catch block) into a Java exception.
void ThrowCurrentAsJava(JNIEnv* env);

/// Runs body() and returns its result; if it throws, raises the matching Java exception (see the top of
/// this file) and returns on_error, which the JVM ignores since an exception is pending.
template <typename Result, typename Body>
Result Guarded(JNIEnv* env, Result on_error, Body&& body) {
  try {
    return body();
  } catch (...) {
    ThrowCurrentAsJava(env);
    return on_error;
  }
}

/// The void form of Guarded.
template <typename Body>
void GuardedVoid(JNIEnv* env, Body&& body) {
  try {
    body();
  } catch (...) {
    ThrowCurrentAsJava(env);
  }
}

/// Copies samples[offset, offset + length) of a Java float[]; InvalidArgument for a null array, a range
/// outside the array, or a NaN/infinite sample ("what" names the argument in messages).
std::vector<float> ReadSamples(JNIEnv* env, jfloatArray samples, jint offset, jint length, const char* what);

/// A new Java float[] holding values; InvalidArgument when it would exceed a Java array's size limit.
jfloatArray NewFloatArray(JNIEnv* env, const std::vector<float>& values, const char* what);

}  // namespace jni
}  // namespace qae

#endif  // QWEN_ASR_EDGE_CPP_EXT_JNI_JNI_SUPPORT_H_
