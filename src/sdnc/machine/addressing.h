// addressing.h — the addressing rule: how queries are compared with the keys in memory
// (content addressing), and how read heads address slices of a slot.
//
//   dot    : score[j] = q·k_j / √Wq                                  (attention)
//   cosine : score[j] = s(β̂) · (q·k_j) / (‖q‖·‖k_j‖ + ε),  ‖x‖ = √(Σx² + ε),  ε = 1e-6
//            s = softplus (DeepMind's code) or oneplus = 1 + softplus (the paper)  (DNC.md A.3)
//   weights = softmax_j(score[j] + bias[j])
//
// Slices: a slot row holds S slices of W. A query of width S·W addresses the whole row (the
// write head's content lookup; every read of an S = 1 memory); a query of width W is read
// head r of R and addresses slice r·S/R (S = R: multi-head attention, each head its own
// slice; 1 < S < R: grouped-query attention).
// Legend: B batch, n slots, K queries, R read heads, S slices, W word size.
#pragma once
#include "sdnc/machine/machine_config.h"
#include "sdnc/core/tensor.h"

namespace sdnc::machine {

inline constexpr double kAddressingEpsilon = 1e-6;  // DeepMind's _EPSILON

// keys [B, n, S·W], queries [B, K, Wq], strengths [B, K] raw (cosine only; undefined for dot),
// bias [B or 1, K, n] added to the scores (may be undefined) → weights [B, K, n].
Tensor content_weights(Similarity similarity, Strength strength, const Tensor& keys, const Tensor& queries,
                       int64_t slices, const Tensor& strengths, const Tensor& bias = Tensor());

// The scores before the softmax (same arguments) → [B, K, n].
Tensor content_scores(Similarity similarity, Strength strength, const Tensor& keys, const Tensor& queries,
                      int64_t slices, const Tensor& strengths);

// Read words: weights [B, R, n] over slots whose rows are source [B, n, S·W]; head r reads
// its slice r·S/R (the whole row when S = 1) → [B, R, W].
Tensor read_slices(const Tensor& weights, const Tensor& source, int64_t slices);

// Slot rows [B, n, S·W] as one memory per read head: [B·R, n, W] (head r's slice r·S/R).
Tensor per_head_slices(const Tensor& rows, int64_t slices, int64_t heads);

// The applied strength s(β̂).
Tensor apply_strength(Strength strength, const Tensor& raw);

}  // namespace sdnc::machine
