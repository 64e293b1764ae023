// loss.h — fused losses: cross-entropy over classes and sigmoid binary cross-entropy.
#pragma once
#include <cstdint>
#include <string_view>

#include "sdnc/core/tensor.h"

namespace sdnc {

// Mean cross-entropy over the non-ignored targets, as torch.nn.functional.cross_entropy
// with reduction='mean' (class dim last):
//   logits  [..., C]  F32 or F64 (e.g. [B, T, V] or [B, C]; a 1-D [C] takes a 0-dim target)
//   targets [...]     I64 class indices in [0, C), or ignore_index to skip that position
//   → loss  []        0-dim: Σ_kept (logsumexp(logits) - logits[target]) / (number kept)
// Fused: one pass per row computes the log-sum-exp (max-subtracted; ±1e3 logits are fine) and
// the loss; the forward saves the row's logsumexp (as max [R] and log Σ exp(x - max) [R]), and
// the backward is (softmax - onehot) · g / kept, with ignored rows getting 0.
// Throws "[cross_entropy] target v at position [..] ..." for a target outside [0, C) that
// is not ignore_index.
// Deviation from torch: if every target is ignored the loss is 0 with a zero gradient
// (torch returns NaN).
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index = -100);

// Binary cross-entropy on logits, computed stably per element as
//   l = max(x, 0) - x·t + log1p(exp(-|x|)),
// then multiplied by the mask and reduced:
//   logits  [...]  F32 or F64, e.g. [B, T, X]
//   targets [...]  same shape and dtype as logits; may be soft (any value, usually in [0, 1])
//   mask    optional, same dtype; shape equal to logits' shape or a prefix of it (e.g. [B, T]
//           for logits [B, T, X]), broadcast over the trailing dims
//   reduction "sum" (Σ mask·l) or "mean" (Σ mask·l / numel(logits) — the count of logits
//           elements, not of unmasked ones)
//   → loss  []     0-dim
// Twin: F.binary_cross_entropy_with_logits(x, t, reduction='none') * mask, then sum/mean.
// Gradients flow to logits, targets (dl/dt = -x) and mask (dl/dmask = Σ of l over the
// broadcast trailing dims).
Tensor sigmoid_bce_with_logits(const Tensor& logits, const Tensor& targets, const Tensor& mask = Tensor(),
                               std::string_view reduction = "mean");

}  // namespace sdnc
