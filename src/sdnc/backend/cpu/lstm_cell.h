// backend/cpu/lstm_cell.h — CPU kernels of ops/lstm_cell.
#pragma once
#include "sdnc/core/tensor.h"

namespace sdnc::cpu {

// gates [B, 4Hd] (in: pre-activations; out: activated i, f, g, o) and c [B, Hd] →
// c_next, h_next [B, Hd] and tanh_c = tanh(c_next) [B, Hd] (saved for the backward).
void lstm_cell_pointwise(Tensor& gates, const Tensor& c, double forget_bias, Tensor& h_next, Tensor& c_next,
                         Tensor& tanh_c);

// From the activated gates, c, tanh(c_next) and the output gradients dh_next, dc_next
// [B, Hd] → dgates [B, 4Hd] (d pre-activations) and, if defined, dc [B, Hd].
void lstm_cell_pointwise_backward(const Tensor& gates, const Tensor& c, const Tensor& tanh_c,
                                  const Tensor& dh_next, const Tensor& dc_next, Tensor& dgates, Tensor& dc);

}  // namespace sdnc::cpu
