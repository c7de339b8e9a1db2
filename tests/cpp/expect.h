// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// The minimal check macros of the C++ core's tests (no gtest): a failed check prints its line and is
// counted; main() ends with `return ReportChecks();`.

#ifndef QWEN_ASR_EDGE_TESTS_CPP_EXPECT_H_
#define QWEN_ASR_EDGE_TESTS_CPP_EXPECT_H_

#include <cmath>
#include <cstdio>

inline int g_checks = 0;
inline int g_failures = 0;

#define EXPECT(cond)                                                \
  do {                                                              \
    ++g_checks;                                                     \
    if (!(cond)) {                                                  \
      ++g_failures;                                                 \
      std::printf("FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond); \
    }                                                               \
  } while (0)

#define EXPECT_NEAR(a, b, tol)                                                             \
  do {                                                                                     \
    ++g_checks;                                                                            \
    const double va_ = (a), vb_ = (b);                                                     \
    if (!(std::fabs(va_ - vb_) <= (tol))) {                                                \
      ++g_failures;                                                                        \
      std::printf("FAILED %s:%d: %s = %.17g vs %s = %.17g (tol %g)\n", __FILE__, __LINE__, \
                  #a, va_, #b, vb_, static_cast<double>(tol));                             \
    }                                                                                      \
  } while (0)

/// Prints "N checks, M failed"; the exit status of the test (1 if any failed).
inline int ReportChecks() {
  std::printf("%d checks, %d failed\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}

#endif  // QWEN_ASR_EDGE_TESTS_CPP_EXPECT_H_
