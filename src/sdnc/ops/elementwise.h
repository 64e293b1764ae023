// elementwise.h — binary arithmetic with numpy broadcasting (a dim of 1, or a missing
// leading dim, stretches), and arithmetic with a scalar. Gradients of a broadcast input
// are summed back to its shape.
#pragma once
#include "sdnc/core/tensor.h"

namespace sdnc {

Tensor add(const Tensor& a, const Tensor& b);  // a + b
Tensor sub(const Tensor& a, const Tensor& b);  // a - b
Tensor mul(const Tensor& a, const Tensor& b);  // a * b
Tensor div(const Tensor& a, const Tensor& b);  // a / b

Tensor add_scalar(const Tensor& a, double s);  // a + s
Tensor mul_scalar(const Tensor& a, double s);  // a * s

// Sums g over the broadcast dims so that it has shape `target` (no autograd).
Tensor sum_to_shape(const Tensor& g, const Shape& target);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }

}  // namespace sdnc
