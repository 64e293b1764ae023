#include "sdnc/ops/dropout.h"

#include "sdnc/autograd/node.h"
#include "sdnc/backend/cpu/dropout.h"
#include "sdnc/ops/checks.h"
#include "sdnc/ops/elementwise.h"

namespace sdnc {

namespace {

// Saves the scaled mask (0 or 1/(1-p)), same shape as x.
struct DropoutNode : Node {
  Tensor mask;
  const char* name() const override { return "dropout"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    return {mul(go[0], mask)};  // the engine runs backward with grad mode off
  }
  void release() override { mask = Tensor(); }
};

}  // namespace

Tensor dropout(const Tensor& x, double p, bool training, Generator& gen) {
  const char* op = "dropout";
  check_float_input(op, x, "x");
  if (!(p >= 0.0 && p <= 1.0)) fail(op, "p must be in [0, 1], got {}", p);
  if (!training || p == 0.0) return x;
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  Tensor mask = Tensor::empty(x.shape(), x.dtype());
  if (p == 1.0) {
    y.fill(0.0);
    mask.fill(0.0);
  } else {
    cpu::dropout_forward(x, 1.0 - p, 1.0 / (1.0 - p), gen.seed(), gen.offset(), mask, y);
    gen.set_state(gen.seed(), gen.offset() + static_cast<uint64_t>(x.numel()));
  }
  if (auto node = record<DropoutNode>({&x}, y)) node->mask = mask;
  return y;
}

}  // namespace sdnc
