// unary.h — elementwise functions of one tensor. Every op keeps the shape of x (any shape,
// F32 or F64) and has a gradient; each saves only what its backward reads (noted per op).
//
// Numerically stable for any finite input: exp overflows to inf only where the true value
// does (|x| > 88.7 in F32, > 709 in F64); sigmoid, tanh and softplus never produce NaN or
// inf from finite input.
#pragma once
#include "sdnc/core/tensor.h"

namespace sdnc {

// -x. Saves nothing.
Tensor neg(const Tensor& x);

// e^x. Saves the output (dx = g · y).
Tensor exp(const Tensor& x);

// Natural log; x must be > 0 for a finite result (not checked: log(0) = -inf, log(<0) = NaN,
// as in PyTorch). Saves the input (dx = g / x).
Tensor log(const Tensor& x);

// √x; sqrt(0) = 0 with an infinite gradient, as in PyTorch. Saves the output (dx = g / 2y).
Tensor sqrt(const Tensor& x);

// tanh(x). Saves the output (dx = g · (1 - y²)).
Tensor tanh(const Tensor& x);

// 1 / (1 + e^-x), computed from e^-|x| so that it never overflows. Saves the output
// (dx = g · y (1 - y)).
Tensor sigmoid(const Tensor& x);

// log(1 + e^x) (beta 1) as max(x, 0) + log1p(e^-|x|): exact for every x, never overflows.
// PyTorch's F.softplus switches to x above its threshold 20; the two differ by < 2.1e-9.
// Saves the input (dx = g · sigmoid(x)).
Tensor softplus(const Tensor& x);

// max(x, 0); the gradient at x = 0 is 0 (as PyTorch). Saves the output.
Tensor relu(const Tensor& x);

// GELU. Exact form (default): x · Φ(x) = ½ x erfc(-x/√2).
// approximate_tanh: ½ x (1 + tanh(√(2/π) (x + 0.044715 x³))), PyTorch's
// F.gelu(x, approximate='tanh'). Saves the input.
Tensor gelu(const Tensor& x, bool approximate_tanh = false);

// min(max(x, lo), hi); needs lo <= hi (both not NaN). The gradient is g where
// lo <= x <= hi (bounds included, exactly as torch.clamp) and 0 elsewhere. Saves the input.
Tensor clamp(const Tensor& x, double lo, double hi);

}  // namespace sdnc
