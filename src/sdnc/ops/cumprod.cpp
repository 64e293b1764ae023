#include "sdnc/ops/cumprod.h"

#include "sdnc/autograd/node.h"
#include "sdnc/backend/cpu/cumprod.h"
#include "sdnc/ops/checks.h"

namespace sdnc {

namespace {

// Saves x; the backward rebuilds prefix and suffix products from it (no division).
struct CumprodNode : Node {
  Tensor x;
  int axis;
  bool exclusive;
  CumprodNode(int a, bool e) : axis(a), exclusive(e) {}
  const char* name() const override { return "cumprod"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    Tensor dx = Tensor::empty(x.shape(), x.dtype());
    cpu::cumprod_backward(go[0], x, axis, exclusive, dx);
    return {dx};
  }
  void release() override { x = Tensor(); }
};

// Saves x; dx_j = g · prefix_{j-1} · suffix_{j+1}.
struct ProdNode : Node {
  Tensor x;
  int axis;
  explicit ProdNode(int a) : axis(a) {}
  const char* name() const override { return "prod"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    Tensor dx = Tensor::empty(x.shape(), x.dtype());
    cpu::prod_backward(go[0], x, axis, dx);
    return {dx};
  }
  void release() override { x = Tensor(); }
};

int check_axis_input(const char* op, const Tensor& x, int64_t axis) {
  check_float_input(op, x, "x");
  if (x.ndim() < 1) fail(op, "x must have at least 1 dim, got a 0-dim tensor");
  return normalize_axis(op, axis, x.ndim());
}

}  // namespace

Tensor cumprod(const Tensor& x, int64_t axis, bool exclusive) {
  int a = check_axis_input("cumprod", x, axis);
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  cpu::cumprod_forward(x, a, exclusive, y);
  if (auto node = record<CumprodNode>({&x}, y, a, exclusive)) node->x = x.detach();
  return y;
}

Tensor prod(const Tensor& x, int64_t axis, bool keepdim) {
  int a = check_axis_input("prod", x, axis);
  Shape out_shape = x.shape();
  if (keepdim) out_shape[a] = 1;
  else out_shape.erase(out_shape.begin() + a);
  Tensor y = Tensor::empty(out_shape, x.dtype());
  cpu::prod_forward(x, a, y);
  if (auto node = record<ProdNode>({&x}, y, a)) node->x = x.detach();
  return y;
}

}  // namespace sdnc
