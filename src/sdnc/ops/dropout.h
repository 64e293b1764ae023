// dropout.h — inverted dropout with a counter-based mask.
#pragma once
#include "sdnc/core/rng.h"
#include "sdnc/core/tensor.h"

namespace sdnc {

// Inverted dropout: x [...] → y [...], y = x · keep / (1 - p). Element i is kept when the
// uniform number in [0, 1) drawn from gen's counter offset + i is below 1 - p: exactly the
// mask gen.fill_bernoulli(mask, 1 - p) would draw. Counter-based, so the mask does not
// depend on the thread count. When training and 0 < p < 1 the call consumes numel(x)
// counters (gen.offset() advances by numel(x)); otherwise gen is untouched.
//   !training or p == 0 → returns x itself (no copy, no node);
//   p == 1              → zeros (gradient zeros);
//   p outside [0, 1] (or NaN) throws "[dropout] ...".
// The backward is dx = g · keep / (1 - p), from the saved scaled mask.
Tensor dropout(const Tensor& x, double p, bool training, Generator& gen);

}  // namespace sdnc
