// Copyright 2026 qwen-asr-edge authors. Apache-2.0.
//
// One selection step of beam search: the k best continuations of a batch of hypotheses.

#ifndef QWEN_ASR_EDGE_CPP_EXT_CORE_BEAM_STEP_H_
#define QWEN_ASR_EDGE_CPP_EXT_CORE_BEAM_STEP_H_

#include <cstdint>

namespace qae {

/// logits: [batch, vocab] row-major float32; beam_scores: [batch] (sums of log-probabilities so far).
/// With lse_r = max_r + log(sum_v exp(logits[r,v] - max_r)) (in double), the score of continuing row r
/// with token v is beam_scores[r] + logits[r,v] - lse_r, i.e. the score plus log_softmax.
/// Writes the k best (row, token, score), best first, ties broken by the smaller flat index r * vocab + v,
/// and for every row its argmax token (lowest index on ties) and that token's score.
/// O(batch * vocab * log k); NaN logits are never selected. Requires 1 <= k <= batch * vocab.
void BeamStep(const float* logits, int64_t batch, int64_t vocab, const double* beam_scores, int64_t k,
              int64_t* out_rows, int64_t* out_tokens, double* out_scores, int64_t* row_best_token,
              double* row_best_score);

}  // namespace qae

#endif  // QWEN_ASR_EDGE_CPP_EXT_CORE_BEAM_STEP_H_
