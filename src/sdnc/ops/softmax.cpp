#include "sdnc/ops/softmax.h"

#include "sdnc/autograd/node.h"
#include "sdnc/backend/cpu/softmax.h"
#include "sdnc/ops/checks.h"

namespace sdnc {

namespace {

// Saves the output y (softmax probabilities or log-probabilities).
struct SoftmaxNode : Node {
  Tensor y;
  int axis;
  bool log;
  SoftmaxNode(int a, bool l) : axis(a), log(l) {}
  const char* name() const override { return log ? "log_softmax" : "softmax"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    Tensor dx = Tensor::empty(y.shape(), y.dtype());
    cpu::softmax_backward(go[0], y, axis, log, dx);
    return {dx};
  }
  void release() override { y = Tensor(); }
};

Tensor softmax_impl(const char* op, const Tensor& x, int64_t axis, bool log) {
  check_float_input(op, x, "x");
  if (x.ndim() < 1) fail(op, "x must have at least 1 dim, got a 0-dim tensor");
  int a = normalize_axis(op, axis, x.ndim());
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  cpu::softmax_forward(x, a, log, y);
  if (auto node = record<SoftmaxNode>({&x}, y, a, log)) node->y = y.detach();
  return y;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t axis) { return softmax_impl("softmax", x, axis, false); }
Tensor log_softmax(const Tensor& x, int64_t axis) { return softmax_impl("log_softmax", x, axis, true); }

}  // namespace sdnc
