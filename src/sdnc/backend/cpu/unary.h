// backend/cpu/unary.h — CPU kernels of ops/unary.
#pragma once
#include "sdnc/core/tensor.h"

namespace sdnc::cpu {

enum class UnaryOp { Neg, Exp, Log, Sqrt, Tanh, Sigmoid, Softplus, Relu, Gelu, GeluTanh, Clamp };

struct UnaryParams {
  double lo = 0, hi = 0;  // clamp bounds
};

// What the backward of op reads: the forward's input, its output, or nothing.
enum class UnarySaves { Nothing, Input, Output };
UnarySaves unary_saves(UnaryOp op);

// out = f(x), elementwise; out has x's shape and dtype.
void unary_forward(UnaryOp op, const Tensor& x, Tensor& out, const UnaryParams& p = {});

// dx = g · f'(·), elementwise, where saved is what unary_saves(op) names (undefined for
// Nothing). g is only read.
void unary_backward(UnaryOp op, const Tensor& saved, const Tensor& g, Tensor& dx, const UnaryParams& p = {});

}  // namespace sdnc::cpu
