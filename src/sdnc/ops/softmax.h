// softmax.h — softmax and log-softmax along one axis (fused, max-subtracted, stable).
#pragma once
#include <cstdint>

#include "sdnc/core/tensor.h"

namespace sdnc {

// y = exp(x - max) / Σ exp(x - max) along `axis` (negative counts from the end):
//   x [..., C, ...] → y, same shape. Rows of ±1e3 logits give exact 0/1 probabilities,
// never NaN. The backward uses the saved output: dx = y · (g - Σ g·y).
Tensor softmax(const Tensor& x, int64_t axis = -1);

// y = x - max - log Σ exp(x - max) along `axis`: x [..., C, ...] → y, same shape.
// The backward uses the saved output: dx = g - exp(y) · Σ g.
Tensor log_softmax(const Tensor& x, int64_t axis = -1);

}  // namespace sdnc
