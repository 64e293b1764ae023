// backend/cpu/loss.h — CPU kernels of ops/loss.
#pragma once
#include <cstdint>

#include "sdnc/core/tensor.h"

namespace sdnc::cpu {

// logits [R, C] (viewed), targets [R] (I64, already validated) → the row's logsumexp as
// row_max [R] and row_logsum [R] = log Σ exp(x - max) (written for every row), and the
// returned Σ over kept rows of (max - logits[target]) + logsum, summed in double.
double cross_entropy_forward(const Tensor& logits, const Tensor& targets, int64_t ignore_index, Tensor& row_max,
                             Tensor& row_logsum);

// dlogits [R, C] = (softmax - onehot(target)) · scale for kept rows, 0 for ignored rows,
// with softmax = exp((x - max) - logsum).
void cross_entropy_backward(const Tensor& logits, const Tensor& targets, int64_t ignore_index,
                            const Tensor& row_max, const Tensor& row_logsum, double scale, Tensor& dlogits);

// Σ_i mask[i / K] · l(x_i, t_i) in double over all N elements (mask undefined = 1),
// with K = numel(x) / numel(mask). Summed in fixed blocks: independent of the thread count.
double bce_with_logits_forward(const Tensor& x, const Tensor& t, const Tensor& mask);

// For each defined output: dx = scale·m·(σ(x) - t), dt = -scale·m·x, dmask[j] = scale·Σ_k l.
void bce_with_logits_backward(const Tensor& x, const Tensor& t, const Tensor& mask, double scale, Tensor& dx,
                              Tensor& dt, Tensor& dmask);

}  // namespace sdnc::cpu
