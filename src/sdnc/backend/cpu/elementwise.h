// backend/cpu/elementwise.h — CPU kernels of ops/elementwise.
#pragma once
#include "sdnc/core/tensor.h"

namespace sdnc::cpu {

enum class BinaryOp { Add, Sub, Mul, Div };

// out[i] = a[bcast(i)] op b[bcast(i)]; out has the broadcast shape.
void binary_forward(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out);

// out = a * s + t (elementwise, same shape).
void affine_scalar(const Tensor& a, double s, double t, Tensor& out);

// out (shape target) = sum of g over the dims broadcast from target to g.shape().
void sum_to_shape(const Tensor& g, Tensor& out);

}  // namespace sdnc::cpu
