// cumprod.h — cumulative and full products along an axis, with division-free gradients.
#pragma once
#include <cstdint>

#include "sdnc/core/tensor.h"

namespace sdnc {

// Cumulative product along `axis` (negative counts from the end): x [..., N, ...] → y, same shape.
//   inclusive: y_i = Π_{k<=i} x_k
//   exclusive: y_i = Π_{k<i} x_k, y_0 = 1 (the DNC's allocation weighting uses this)
// The gradient comes from prefix and suffix products, never from dividing by x, so zero
// factors (one or several) give finite, exact gradients: for inclusive,
// dx_j = P_{j-1} · S_j with P the prefix product and S_j = g_j + x_{j+1} · S_{j+1}.
Tensor cumprod(const Tensor& x, int64_t axis, bool exclusive = false);

// Product along `axis`: x [..., N, ...] → [..., ...] (or [..., 1, ...] with keepdim).
// Gradient dx_j = g · Π_{k<j} x_k · Π_{k>j} x_k from prefix/suffix products (no division).
Tensor prod(const Tensor& x, int64_t axis, bool keepdim = false);

}  // namespace sdnc
