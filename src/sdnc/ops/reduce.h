// reduce.h — reductions over one axis or over all elements, with gradients.
//
// axis may be negative (counts from the end). Without keepdim the reduced axis is removed
// ([B, T, D] summed over axis 1 → [B, D]); with keepdim it stays with size 1 ([B, 1, D]).
// Inputs are F32 or F64, non-empty. Sums accumulate in double, in a fixed order, so results
// do not depend on the thread count.
#pragma once
#include <cstdint>

#include "sdnc/core/tensor.h"

namespace sdnc {

// Σ over axis. x: any shape with >= 1 dim. dx = g broadcast along axis.
Tensor sum(const Tensor& x, int64_t axis, bool keepdim = false);

// Σ over axis / x.size(axis). dx = g / x.size(axis) broadcast along axis.
Tensor mean(const Tensor& x, int64_t axis, bool keepdim = false);

// Largest value along axis (the values of torch.max(x, dim)). NaN counts as the largest.
// Gradient: all of g goes to the FIRST maximal element along the axis (the one whose index
// torch.max(x, dim) returns); tied elements after it get 0. Saves the arg-max indices.
Tensor max(const Tensor& x, int64_t axis, bool keepdim = false);

// Σ of all elements, as a 0-dim tensor (shape {}). x: any shape, including 0-dim.
Tensor sum_all(const Tensor& x);

// Mean of all elements, as a 0-dim tensor (shape {}).
Tensor mean_all(const Tensor& x);

}  // namespace sdnc
