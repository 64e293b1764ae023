// backend/cpu/cumprod.h — CPU kernels of ops/cumprod.
#pragma once
#include "sdnc/core/tensor.h"

namespace sdnc::cpu {

// y (shape of x) = inclusive or exclusive cumulative product of x along axis.
void cumprod_forward(const Tensor& x, int axis, bool exclusive, Tensor& y);
// dx (shape of x) from g (shape of x) by prefix/suffix products.
void cumprod_backward(const Tensor& g, const Tensor& x, int axis, bool exclusive, Tensor& dx);

// y (numel = numel(x) / x.size(axis)) = product of x along axis.
void prod_forward(const Tensor& x, int axis, Tensor& y);
// dx (shape of x) from g (numel as y) by prefix/suffix products.
void prod_backward(const Tensor& g, const Tensor& x, int axis, Tensor& dx);

}  // namespace sdnc::cpu
