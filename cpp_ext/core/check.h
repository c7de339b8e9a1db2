// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// Argument and state checks for the C++ core. A failed check throws std::runtime_error with a
// stage-prefixed message ("log-mel: ..."); the pybind11 module turns it into a Python RuntimeError.
// Checks stay on in release builds: they guard API misuse, never inner loops.

#ifndef QWEN_ASR_EDGE_CPP_EXT_CORE_CHECK_H_
#define QWEN_ASR_EDGE_CPP_EXT_CORE_CHECK_H_

#include <sstream>
#include <stdexcept>
#include <string>

namespace qae {

[[noreturn]] inline void CheckFailed(const char* file, int line, const std::string& message) {
  std::ostringstream os;
  os << message << " (" << file << ":" << line << ")";
  throw std::runtime_error(os.str());
}

}  // namespace qae

/// QAE_CHECK(cond, "log-mel: n_fft must be even, got " << n) throws std::runtime_error when cond is false.
#define QAE_CHECK(cond, stream_message)                   \
  do {                                                    \
    if (!(cond)) {                                        \
      std::ostringstream qae_check_os_;                   \
      qae_check_os_ << stream_message;                    \
      ::qae::CheckFailed(__FILE__, __LINE__, qae_check_os_.str()); \
    }                                                     \
  } while (0)

#endif  // QWEN_ASR_EDGE_CPP_EXT_CORE_CHECK_H_
