#include "sdnc/ops/layer_norm.h"

#include <cmath>

#include "sdnc/autograd/node.h"
#include "sdnc/backend/cpu/layer_norm.h"
#include "sdnc/ops/checks.h"

namespace sdnc {

namespace {

// Saves x, weight, and the per-row mean and rstd [R] of the forward.
struct LayerNormNode : Node {
  Tensor x, weight, mean, rstd;
  bool has_weight = false, has_bias = false;
  const char* name() const override { return "layer_norm"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    const Tensor& g = go[0];
    int64_t D = x.size(-1);
    Tensor dx, dw, db;
    if (needs_input_grad(0)) dx = Tensor::empty(x.shape(), x.dtype());
    if (has_weight && needs_input_grad(1)) dw = Tensor::empty({D}, x.dtype());
    if (has_bias && needs_input_grad(2)) db = Tensor::empty({D}, x.dtype());
    cpu::layer_norm_backward(g, x, weight, mean, rstd, dx, dw, db);
    return {dx, dw, db};
  }
  void release() override { x = weight = mean = rstd = Tensor(); }
};

}  // namespace

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  const char* op = "layer_norm";
  check_float_input(op, x, "x");
  if (x.ndim() < 1) fail(op, "x must have at least 1 dim, got a 0-dim tensor");
  int64_t D = x.size(-1);
  for (auto [t, arg] : {std::pair{&weight, "weight"}, std::pair{&bias, "bias"}}) {
    if (!t->defined()) continue;
    check_float_input(op, *t, arg);
    check_same_dtype(op, x, *t);
    if (t->shape() != Shape{D})
      fail(op, "{} shape {} != [{}] (the last dim of x {})", arg, shape_str(t->shape()), D, shape_str(x.shape()));
  }
  if (!(eps > 0) || !std::isfinite(eps)) fail(op, "eps must be a positive finite number, got {}", eps);
  int64_t R = x.numel() / D;
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  Tensor mean = Tensor::empty({R}, x.dtype()), rstd = Tensor::empty({R}, x.dtype());
  cpu::layer_norm_forward(x, weight, bias, eps, y, mean, rstd);
  if (auto node = record<LayerNormNode>({&x, &weight, &bias}, y)) {
    node->x = x.detach();
    node->weight = weight.defined() ? weight.detach() : Tensor();
    node->mean = mean;
    node->rstd = rstd;
    node->has_weight = weight.defined();
    node->has_bias = bias.defined();
  }
  return y;
}

}  // namespace sdnc
