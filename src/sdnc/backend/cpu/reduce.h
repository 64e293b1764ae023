// backend/cpu/reduce.h — CPU kernels of ops/reduce. x is viewed as [outer, n, inner] around
// the reduced axis (see split_at_axis); reduced tensors are [outer, inner].
#pragma once
#include "sdnc/core/tensor.h"

namespace sdnc::cpu {

// out[o, i] = (Σ_k x[o, k, i]) / divisor, accumulated in double in a fixed order.
void sum_axis(const Tensor& x, const AxisSplit& s, double divisor, Tensor& out);

// dx[o, k, i] = g[o, i] / divisor.
void sum_axis_backward(const Tensor& g, const AxisSplit& s, double divisor, Tensor& dx);

// out[o, i] = max_k x[o, k, i]; arg (I64) = the first k attaining it (NaN wins).
void max_axis(const Tensor& x, const AxisSplit& s, Tensor& out, Tensor& arg);

// dx = 0 except dx[o, arg[o, i], i] = g[o, i].
void max_axis_backward(const Tensor& g, const Tensor& arg, const AxisSplit& s, Tensor& dx);

// out (0-dim) = (Σ x) / divisor, summed in fixed blocks in double (thread-count independent).
void sum_all(const Tensor& x, double divisor, Tensor& out);

// dx[j] = g / divisor for every j (g 0-dim).
void sum_all_backward(const Tensor& g, double divisor, Tensor& dx);

}  // namespace sdnc::cpu
