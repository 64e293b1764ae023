// backend/cpu/layer_norm.h — CPU kernels of ops/layer_norm.
#pragma once
#include "sdnc/core/tensor.h"

namespace sdnc::cpu {

// x [R, D] (viewed), weight/bias [D] or undefined → y [R, D], mean [R], rstd [R].
void layer_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, Tensor& y,
                        Tensor& mean, Tensor& rstd);

// g [R, D] → dx [R, D] (if defined), dweight [D] (if defined), dbias [D] (if defined).
// Only the defined outputs are written; weight may be undefined (scale 1).
void layer_norm_backward(const Tensor& g, const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& rstd, Tensor& dx, Tensor& dweight, Tensor& dbias);

// One row, F32, serial (a decoding step normalises a few rows inside its own parallel
// region): y[D] = (x − mean) · rstd · weight + bias, with the statistics summed in double
// like layer_norm_forward. weight and bias may be null.
void layer_norm_row(const float* x, const float* weight, const float* bias, int64_t D, double eps, float* y);

}  // namespace sdnc::cpu
