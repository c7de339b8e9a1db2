// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// Binding of core/beam_step.h: numpy in, numpy out, the GIL released while the core runs.

#include "python/beam_step.h"

#include <pybind11/numpy.h>

#include <string>

#include "core/beam_step.h"

namespace py = pybind11;

namespace qae {
namespace {

using Logits = py::array_t<float, py::array::c_style | py::array::forcecast>;
using Scores = py::array_t<double, py::array::c_style | py::array::forcecast>;
using Ids = py::array_t<int64_t>;

py::tuple BeamStepBinding(const Logits& logits, const Scores& beam_scores, int64_t k) {
  if (logits.ndim() != 2) {
    throw py::value_error("beam_step: logits must be [batch, vocab], got " + std::to_string(logits.ndim()) +
                          " dimensions");
  }
  const int64_t batch = logits.shape(0), vocab = logits.shape(1);
  if (beam_scores.ndim() != 1 || beam_scores.shape(0) != batch) {
    throw py::value_error("beam_step: beam_scores must be [" + std::to_string(batch) + "]");
  }
  if (k < 1 || k > batch * vocab) {
    throw py::value_error("beam_step: k must be in [1, " + std::to_string(batch * vocab) + "], got " +
                          std::to_string(k));
  }
  Ids rows(k), tokens(k), best(batch);
  Scores scores(k), best_scores(batch);
  const float* x = logits.data();
  const double* b = beam_scores.data();
  int64_t* r = rows.mutable_data();
  int64_t* t = tokens.mutable_data();
  double* s = scores.mutable_data();
  int64_t* bt = best.mutable_data();
  double* bs = best_scores.mutable_data();
  {
    py::gil_scoped_release release;
    BeamStep(x, batch, vocab, b, k, r, t, s, bt, bs);
  }
  return py::make_tuple(rows, tokens, scores, best, best_scores);
}

}  // namespace

void PybindBeamStep(py::module_& m) {
  m.def("beam_step", &BeamStepBinding, py::arg("logits"), py::arg("beam_scores"), py::arg("k"),
        "The k best continuations of score beam_scores[r] + log_softmax(logits)[r, v]: (rows, tokens, scores) best\n"
        "first (ties: smaller flat index), and each row's argmax token and its score. logits [batch, vocab]\n"
        "float32, beam_scores [batch] float64.");
}

}  // namespace qae
