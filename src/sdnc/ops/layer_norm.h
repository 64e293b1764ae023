// layer_norm.h — layer normalisation over the last dim (fused forward and backward).
#pragma once
#include "sdnc/core/tensor.h"

namespace sdnc {

// y = (x - mean) · rstd · weight + bias over the last dim, as torch.nn.functional.layer_norm
// with normalized_shape = [D]:
//   x      [..., D]  (any leading dims, F32 or F64)
//   weight [D]       optional (undefined = no scale)
//   bias   [D]       optional (undefined = no shift)
//   → y    [..., D]
// mean and the biased variance are taken per row; rstd = 1 / sqrt(var + eps), eps > 0.
// The forward saves mean and rstd per row; the backward gives dx, dweight and dbias in one
// pass over the rows plus one column-parallel pass for the parameter gradients.
Tensor layer_norm(const Tensor& x, const Tensor& weight = Tensor(), const Tensor& bias = Tensor(),
                  double eps = 1e-5);

}  // namespace sdnc
