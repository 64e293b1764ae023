#include "sdnc/ops/dnc_addressing.h"

#include "sdnc/autograd/grad_mode.h"
#include "sdnc/autograd/node.h"
#include "sdnc/backend/cpu/dnc_addressing.h"
#include "sdnc/ops/checks.h"

namespace sdnc {

namespace {

// Saves the inputs and outputs (aliases), the values the forward computed for the backward
// (cpu::dnc_saved_width per batch element) and the allocation permutations (constants).
// Inputs: 0 iface, 1..6 the previous state. Outputs: 0 words, 1..6 the new state.
struct DncAccessStepNode : Node {
  cpu::DncDims dims;
  Tensor iface, saved;
  cpu::DncStateTensors prev, next;
  std::vector<int32_t> order;
  const char* name() const override { return "dnc_access_step"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    cpu::DncStateTensors dnext, dprev;
    for (int k = 0; k < 6; ++k) dnext[k] = go[k + 1];
    Tensor diface;
    cpu::dnc_step_backward(dims, iface, prev, next, saved, order, go[0], dnext, diface, dprev);
    std::vector<Tensor> grads{needs_input_grad(0) ? diface : Tensor()};
    for (int k = 0; k < 6; ++k) grads.push_back(needs_input_grad(k + 1) ? dprev[k] : Tensor());
    return grads;
  }
  void release() override {
    iface = saved = Tensor();
    prev = next = {};
    order = {};
  }
};

}  // namespace

int64_t dnc_interface_width(int64_t W, int64_t R, int64_t H) {
  cpu::DncDims d;
  d.N = 1, d.W = W, d.R = R, d.H = H;
  return cpu::dnc_interface_width(d);
}

std::vector<Tensor> dnc_access_step(const Tensor& iface, const Tensor& memory, const Tensor& read_weights,
                                    const Tensor& write_weights, const Tensor& link, const Tensor& precedence,
                                    const Tensor& usage, bool oneplus) {
  const char* op = "dnc_access_step";
  check_float_input(op, iface, "iface");
  check_float_input(op, memory, "memory");
  check_ndim(op, memory, 3, "memory [B, N, W]");
  check_ndim(op, read_weights, 3, "read_weights [B, R, N]");
  check_ndim(op, write_weights, 3, "write_weights [B, H, N]");
  cpu::DncDims d;
  const int64_t B = memory.size(0);
  d.N = memory.size(1), d.W = memory.size(2), d.R = read_weights.size(1), d.H = write_weights.size(1);
  d.oneplus = oneplus;
  const int64_t N = d.N, W = d.W, R = d.R, H = d.H, I = cpu::dnc_interface_width(d);
  auto expect = [&](const Tensor& t, const char* arg, const Shape& s) {
    check_float_input(op, t, arg);
    check_same_dtype(op, iface, t);
    if (t.shape() != s) fail(op, "{} {} != {}", arg, shape_str(t.shape()), shape_str(s));
  };
  expect(iface, "iface", {B, I});
  expect(memory, "memory", {B, N, W});
  expect(read_weights, "read_weights", {B, R, N});
  expect(write_weights, "write_weights", {B, H, N});
  expect(link, "link", {B, H, N, N});
  expect(precedence, "precedence", {B, H, N});
  expect(usage, "usage", {B, N});

  const DType dt = iface.dtype();
  cpu::DncStateTensors prev{memory, read_weights, write_weights, link, precedence, usage}, next;
  for (int k = 0; k < 6; ++k) next[k] = Tensor::empty(prev[k].shape(), dt);
  Tensor words = Tensor::empty({B, R, W}, dt);
  const bool grad = any_requires_grad({&iface, &memory, &read_weights, &write_weights, &link, &precedence, &usage});
  Tensor saved = grad ? Tensor::empty({B, cpu::dnc_saved_width(d)}, dt) : Tensor();
  std::vector<int32_t> order;
  cpu::dnc_step_forward(d, iface, prev, words, next, &saved, grad ? &order : nullptr);

  std::vector<Tensor> out{words, next[0], next[1], next[2], next[3], next[4], next[5]};
  if (grad) {
    auto node = std::make_shared<DncAccessStepNode>();
    attach_node(node, {&iface, &memory, &read_weights, &write_weights, &link, &precedence, &usage},
                {&out[0], &out[1], &out[2], &out[3], &out[4], &out[5], &out[6]});
    node->dims = d;
    node->iface = iface.detach();
    for (int k = 0; k < 6; ++k) node->prev[k] = prev[k].detach(), node->next[k] = out[k + 1].detach();
    node->saved = saved;
    node->order = std::move(order);
  }
  return out;
}

}  // namespace sdnc
