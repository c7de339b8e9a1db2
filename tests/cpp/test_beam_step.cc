// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// Self-contained test of the beam-search selection step (no gtest, no Python). From the repository root:
//
//   g++ -std=c++17 -O2 -ffp-contract=off -Icpp_ext cpp_ext/core/*.cc tests/cpp/test_beam_step.cc -o /tmp/test_beam_step && /tmp/test_beam_step
//
// Compares BeamStep with a brute-force full sort. Prints one line per failed check and exits 1 if any
// failed. tests/test_beam.py compiles and runs it when g++ is available.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <utility>
#include <vector>

#include "core/beam_step.h"
#include "expect.h"

namespace {

// Deterministic pseudo-random numbers in [0, 1) (64-bit LCG).
struct Lcg {
  uint64_t state;
  double Next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) / 9007199254740992.0;
  }
};

void CheckAgainstBruteForce(int64_t batch, int64_t vocab, int64_t k, uint64_t seed, bool ties) {
  Lcg rng{seed};
  std::vector<float> logits(batch * vocab);
  for (float& x : logits) x = static_cast<float>((rng.Next() - 0.5) * 12.0);
  if (ties) {
    for (float& x : logits) x = std::round(x);  // many exact ties, within and across rows
  }
  std::vector<double> beam(batch);
  for (double& b : beam) b = ties ? -1.0 : -rng.Next() * 3.0;

  std::vector<std::pair<double, int64_t>> all;
  std::vector<int64_t> want_best(batch);
  std::vector<double> lse(batch);
  for (int64_t r = 0; r < batch; ++r) {
    const float* row = logits.data() + r * vocab;
    want_best[r] = std::max_element(row, row + vocab) - row;  // first maximum
    double mx = row[want_best[r]], sum = 0.0;
    for (int64_t v = 0; v < vocab; ++v) sum += std::exp(static_cast<double>(row[v]) - mx);
    lse[r] = mx + std::log(sum);
    for (int64_t v = 0; v < vocab; ++v) all.push_back({beam[r] + static_cast<double>(row[v]) - lse[r], r * vocab + v});
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });

  std::vector<int64_t> rows(k), tokens(k), best(batch);
  std::vector<double> scores(k), best_scores(batch);
  qae::BeamStep(logits.data(), batch, vocab, beam.data(), k, rows.data(), tokens.data(), scores.data(), best.data(),
                best_scores.data());
  for (int64_t i = 0; i < k; ++i) {
    EXPECT(rows[i] * vocab + tokens[i] == all[i].second);
    EXPECT(scores[i] == all[i].first);
  }
  for (int64_t r = 0; r < batch; ++r) {
    EXPECT(best[r] == want_best[r]);
    EXPECT(best_scores[r] == beam[r] + static_cast<double>(logits[r * vocab + best[r]]) - lse[r]);
    // log_softmax is normalized: the probabilities of a row's continuations sum to exp(beam score).
    double total = 0.0;
    for (int64_t v = 0; v < vocab; ++v) total += std::exp(static_cast<double>(logits[r * vocab + v]) - lse[r]);
    EXPECT(std::fabs(total - 1.0) < 1e-12);
  }
}

bool Throws(int64_t batch, int64_t vocab, int64_t k) {
  std::vector<float> logits(std::max<int64_t>(batch * vocab, 1));
  std::vector<double> beam(std::max<int64_t>(batch, 1));
  std::vector<int64_t> ids(std::max<int64_t>(k, 1) + batch + 1);
  std::vector<double> values(std::max<int64_t>(k, 1) + batch + 1);
  try {
    qae::BeamStep(logits.data(), batch, vocab, beam.data(), k, ids.data(), ids.data(), values.data(), ids.data(),
                  values.data());
  } catch (const std::runtime_error&) {
    return true;
  }
  return false;
}

}  // namespace

int main() {
  CheckAgainstBruteForce(1, 7, 3, 1, false);
  CheckAgainstBruteForce(1, 7, 7, 2, true);
  CheckAgainstBruteForce(4, 50, 8, 3, false);
  CheckAgainstBruteForce(4, 50, 8, 4, true);
  CheckAgainstBruteForce(3, 20, 60, 5, true);  // k = batch * vocab: a full ranking
  CheckAgainstBruteForce(2, 5000, 4, 6, false);
  EXPECT(Throws(2, 5, 0));
  EXPECT(Throws(2, 5, 11));
  EXPECT(Throws(0, 5, 1));
  return ReportChecks();
}
