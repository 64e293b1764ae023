// backend/cpu/softmax.h — CPU kernels of ops/softmax (and of the fused cross-entropy).
#pragma once
#include "sdnc/core/tensor.h"

namespace sdnc::cpu {

// y = softmax (log == false) or log_softmax (log == true) of x along axis; same shapes.
void softmax_forward(const Tensor& x, int axis, bool log, Tensor& y);

// dx from the saved output y and the incoming gradient g (same shapes), along axis.
void softmax_backward(const Tensor& g, const Tensor& y, int axis, bool log, Tensor& dx);

}  // namespace sdnc::cpu
