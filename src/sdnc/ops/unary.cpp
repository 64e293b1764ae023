#include "sdnc/ops/unary.h"

#include <cmath>

#include "sdnc/autograd/node.h"
#include "sdnc/backend/cpu/unary.h"
#include "sdnc/ops/checks.h"

namespace sdnc {

namespace {

using cpu::UnaryOp;
using cpu::UnaryParams;
using cpu::UnarySaves;

const char* unary_name(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg: return "neg";
    case UnaryOp::Exp: return "exp";
    case UnaryOp::Log: return "log";
    case UnaryOp::Sqrt: return "sqrt";
    case UnaryOp::Tanh: return "tanh";
    case UnaryOp::Sigmoid: return "sigmoid";
    case UnaryOp::Softplus: return "softplus";
    case UnaryOp::Relu: return "relu";
    case UnaryOp::Gelu:
    case UnaryOp::GeluTanh: return "gelu";
    case UnaryOp::Clamp: return "clamp";
  }
  return "unary";
}

// dx = g · f'(saved); saved is the input or the output, whichever unary_saves(op) names.
struct UnaryNode : Node {
  UnaryOp op;
  UnaryParams params;
  Tensor saved;
  UnaryNode(UnaryOp o, UnaryParams p) : op(o), params(p) {}
  const char* name() const override { return unary_name(op); }

  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    if (!needs_input_grad(0)) return {Tensor()};
    const Tensor& g = go[0];
    Tensor dx = Tensor::empty(g.shape(), g.dtype());
    cpu::unary_backward(op, saved, g, dx, params);
    return {dx};
  }
  void release() override { saved = Tensor(); }
};

Tensor unary(UnaryOp op, const Tensor& x, UnaryParams params = {}) {
  const char* name = unary_name(op);
  check_float_input(name, x, "x");
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  cpu::unary_forward(op, x, out, params);
  if (auto node = record<UnaryNode>({&x}, out, op, params)) {
    switch (cpu::unary_saves(op)) {
      case UnarySaves::Nothing: break;
      case UnarySaves::Input: node->saved = x.detach(); break;
      case UnarySaves::Output: node->saved = out.detach(); break;
    }
  }
  return out;
}

}  // namespace

Tensor neg(const Tensor& x) { return unary(UnaryOp::Neg, x); }
Tensor exp(const Tensor& x) { return unary(UnaryOp::Exp, x); }
Tensor log(const Tensor& x) { return unary(UnaryOp::Log, x); }
Tensor sqrt(const Tensor& x) { return unary(UnaryOp::Sqrt, x); }
Tensor tanh(const Tensor& x) { return unary(UnaryOp::Tanh, x); }
Tensor sigmoid(const Tensor& x) { return unary(UnaryOp::Sigmoid, x); }
Tensor softplus(const Tensor& x) { return unary(UnaryOp::Softplus, x); }
Tensor relu(const Tensor& x) { return unary(UnaryOp::Relu, x); }

Tensor gelu(const Tensor& x, bool approximate_tanh) {
  return unary(approximate_tanh ? UnaryOp::GeluTanh : UnaryOp::Gelu, x);
}

Tensor clamp(const Tensor& x, double lo, double hi) {
  if (std::isnan(lo) || std::isnan(hi)) fail("clamp", "bounds must not be NaN, got lo {} hi {}", lo, hi);
  if (lo > hi) fail("clamp", "lo {} > hi {}", lo, hi);
  return unary(UnaryOp::Clamp, x, UnaryParams{lo, hi});
}

}  // namespace sdnc
