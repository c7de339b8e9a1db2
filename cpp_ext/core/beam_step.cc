// Copyright 2026 qwen-asr-edge authors. Apache-2.0.

#include "core/beam_step.h"

#include <algorithm>
#include <cmath>
#include <queue>
#include <utility>
#include <vector>

#include "core/check.h"

namespace qae {
namespace {

using Candidate = std::pair<double, int64_t>;  // (score, flat index)

// Strict "a ranks before b": higher score, then smaller flat index.
bool RanksBefore(const Candidate& a, const Candidate& b) {
  return a.first > b.first || (a.first == b.first && a.second < b.second);
}

}  // namespace

void BeamStep(const float* logits, int64_t batch, int64_t vocab, const double* beam_scores, int64_t k,
              int64_t* out_rows, int64_t* out_tokens, double* out_scores, int64_t* row_best_token,
              double* row_best_score) {
  QAE_CHECK(batch >= 1 && vocab >= 1, "beam step: empty logits [" << batch << ", " << vocab << "]");
  QAE_CHECK(k >= 1 && k <= batch * vocab, "beam step: k must be in [1, " << batch * vocab << "], got " << k);
  // Min-heap on rank: top() is the worst of the k best seen so far.
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(&RanksBefore)> heap(&RanksBefore);
  for (int64_t r = 0; r < batch; ++r) {
    const float* row = logits + r * vocab;
    int64_t best = 0;
    for (int64_t v = 1; v < vocab; ++v) {
      if (row[v] > row[best] || std::isnan(row[best])) best = v;
    }
    const double max_logit = row[best];
    double sum = 0.0;
    for (int64_t v = 0; v < vocab; ++v) sum += std::exp(static_cast<double>(row[v]) - max_logit);
    const double lse = max_logit + std::log(sum);
    row_best_token[r] = best;
    row_best_score[r] = beam_scores[r] + static_cast<double>(row[best]) - lse;
    for (int64_t v = 0; v < vocab; ++v) {
      const Candidate c{beam_scores[r] + static_cast<double>(row[v]) - lse, r * vocab + v};
      if (std::isnan(c.first)) continue;
      if (static_cast<int64_t>(heap.size()) < k) {
        heap.push(c);
      } else if (RanksBefore(c, heap.top())) {
        heap.pop();
        heap.push(c);
      }
    }
  }
  QAE_CHECK(static_cast<int64_t>(heap.size()) == k, "beam step: fewer than k non-NaN logits");
  for (int64_t i = k - 1; i >= 0; --i) {
    const Candidate c = heap.top();
    heap.pop();
    out_scores[i] = c.first;
    out_rows[i] = c.second / vocab;
    out_tokens[i] = c.second % vocab;
  }
}

}  // namespace qae
