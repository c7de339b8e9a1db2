// Copyright 2026 qwen-asr-edge authors. Apache-2.0.

#include "core/log10.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "core/lane_kernels.h"

namespace qae {

void Log10Positive(const double* in, double* out, int64_t n) { Log10Array<2>(in, out, n); }

}  // namespace qae
