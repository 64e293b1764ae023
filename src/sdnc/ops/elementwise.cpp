#include "sdnc/ops/elementwise.h"

#include "sdnc/autograd/node.h"
#include "sdnc/backend/cpu/elementwise.h"
#include "sdnc/ops/checks.h"

namespace sdnc {

namespace {

using cpu::BinaryOp;

const char* binary_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "add";
    case BinaryOp::Sub: return "sub";
    case BinaryOp::Mul: return "mul";
    case BinaryOp::Div: return "div";
  }
  return "binary";
}

Tensor binary_raw(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = binary_name(op);
  check_float_input(name, a, "a");
  check_float_input(name, b, "b");
  check_same_dtype(name, a, b);
  Tensor out = Tensor::empty(broadcast_shapes(name, a.shape(), b.shape()), a.dtype());
  cpu::binary_forward(op, a, b, out);
  return out;
}

// d(a op b): add/sub pass g through; mul saves both operands; div saves b and the output.
struct BinaryNode : Node {
  BinaryOp op;
  Shape a_shape, b_shape;
  Tensor a, b, out;  // saved where the op needs them
  explicit BinaryNode(BinaryOp o) : op(o) {}
  const char* name() const override { return binary_name(op); }

  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    const Tensor& g = go[0];
    Tensor ga, gb;
    bool need_a = needs_input_grad(0), need_b = needs_input_grad(1);
    switch (op) {
      case BinaryOp::Add:
        if (need_a) ga = g;
        if (need_b) gb = g;
        break;
      case BinaryOp::Sub:
        if (need_a) ga = g;
        if (need_b) gb = mul_scalar(g, -1.0);
        break;
      case BinaryOp::Mul:
        if (need_a) ga = mul(g, b);
        if (need_b) gb = mul(g, a);
        break;
      case BinaryOp::Div:  // d/da = g / b ; d/db = -g · out / b
        if (need_a) ga = div(g, b);
        if (need_b) gb = mul_scalar(div(mul(g, out), b), -1.0);
        break;
    }
    if (ga.defined()) ga = sum_to_shape(ga, a_shape);
    if (gb.defined()) gb = sum_to_shape(gb, b_shape);
    return {ga, gb};
  }
  void release() override { a = b = out = Tensor(); }
};

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(op, a, b);
  if (auto node = record<BinaryNode>({&a, &b}, out, op)) {
    node->a_shape = a.shape();
    node->b_shape = b.shape();
    if (op == BinaryOp::Mul) node->a = a.detach(), node->b = b.detach();
    if (op == BinaryOp::Div) node->b = b.detach(), node->out = out.detach();
  }
  return out;
}

struct AffineScalarNode : Node {
  double scale;
  explicit AffineScalarNode(double s) : scale(s) {}
  const char* name() const override { return "affine_scalar"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    return {scale == 1.0 ? go[0] : mul_scalar(go[0], scale)};
  }
};

Tensor affine_scalar(const char* name, const Tensor& a, double s, double t) {
  check_float_input(name, a, "a");
  Tensor out = Tensor::empty(a.shape(), a.dtype());
  cpu::affine_scalar(a, s, t, out);
  record<AffineScalarNode>({&a}, out, s);
  return out;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Add, a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Sub, a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Mul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Div, a, b); }
Tensor add_scalar(const Tensor& a, double s) { return affine_scalar("add_scalar", a, 1.0, s); }
Tensor mul_scalar(const Tensor& a, double s) { return affine_scalar("mul_scalar", a, s, 0.0); }

Tensor sum_to_shape(const Tensor& g, const Shape& target) {
  if (g.shape() == target) return g;
  Tensor out = Tensor::empty(target, g.dtype());
  cpu::sum_to_shape(g, out);
  return out;
}

}  // namespace sdnc
