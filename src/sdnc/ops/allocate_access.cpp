#include "sdnc/ops/allocate_access.h"

#include "sdnc/autograd/grad_mode.h"
#include "sdnc/autograd/node.h"
#include "sdnc/backend/cpu/dnc_addressing.h"
#include "sdnc/ops/checks.h"

namespace sdnc {

namespace {

// Saves the inputs and outputs (aliases), the values the forward computed for the backward
// (cpu::dnc_saved_width per batch element) and the allocation permutations (constants).
// Inputs: 0 iface, then the previous state's parts that exist (`parts`, in
// cpu::DncStatePart order). Outputs: 0 words, then the same parts of the new state.
struct AllocateAccessStepNode : Node {
  cpu::DncDims dims;
  std::vector<int> parts;
  Tensor iface, saved;
  cpu::DncStateTensors prev, next;
  std::vector<int32_t> order;
  const char* name() const override { return "allocate_access_step"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    cpu::DncStateTensors dnext, dprev;
    for (size_t k = 0; k < parts.size(); ++k) dnext[parts[k]] = go[k + 1];
    Tensor diface;
    cpu::dnc_step_backward(dims, iface, prev, next, saved, order, go[0], dnext, diface, dprev);
    std::vector<Tensor> grads{needs_input_grad(0) ? diface : Tensor()};
    for (size_t k = 0; k < parts.size(); ++k) grads.push_back(needs_input_grad(k + 1) ? dprev[parts[k]] : Tensor());
    return grads;
  }
  void release() override {
    iface = saved = Tensor();
    prev = next = {};
    order = {};
  }
};

cpu::DncDims dims_of(const AccessDials& a) {
  cpu::DncDims d;
  d.oneplus = a.oneplus, d.cosine = a.cosine, d.links = a.links, d.separate = a.separate;
  return d;
}

}  // namespace

int64_t allocate_interface_width(int64_t W, int64_t R, int64_t H, const AccessDials& dials) {
  cpu::DncDims d = dims_of(dials);
  d.N = 1, d.W = W, d.R = R, d.H = H;
  return cpu::dnc_interface_width(d);
}

std::vector<Tensor> allocate_access_step(const Tensor& iface, const std::vector<Tensor>& prev_parts,
                                         const AccessDials& dials) {
  const char* op = "allocate_access_step";
  if (prev_parts.size() != cpu::kDncStateParts)
    fail(op, "state has {} parts, expected {}", prev_parts.size(), cpu::kDncStateParts);
  cpu::DncStateTensors prev;
  std::copy(prev_parts.begin(), prev_parts.end(), prev.begin());
  const Tensor &memory = prev[cpu::kDncMemory], &read_weights = prev[cpu::kDncReadWeights],
               &write_weights = prev[cpu::kDncWriteWeights];
  check_float_input(op, iface, "iface");
  check_float_input(op, memory, "memory");
  check_ndim(op, memory, 3, "memory [B, N, W]");
  check_ndim(op, read_weights, 3, "read_weights [B, R, N]");
  check_ndim(op, write_weights, 3, "write_weights [B, H, N]");
  cpu::DncDims d = dims_of(dials);
  const int64_t B = memory.size(0);
  d.N = memory.size(1), d.W = memory.size(2), d.R = read_weights.size(1), d.H = write_weights.size(1);
  const int64_t N = d.N, W = d.W, R = d.R, H = d.H, I = cpu::dnc_interface_width(d);
  auto expect = [&](const Tensor& t, const char* arg, const Shape& s) {
    check_float_input(op, t, arg);
    check_same_dtype(op, iface, t);
    if (t.shape() != s) fail(op, "{} {} != {}", arg, shape_str(t.shape()), shape_str(s));
  };
  // A part exists exactly when the dials have it.
  auto expect_part = [&](int part, bool exists, const char* arg, const Shape& s) {
    if (exists) return expect(prev[part], arg, s);
    if (prev[part].defined()) fail(op, "{} given, but these dials have none", arg);
  };
  expect(iface, "iface", {B, I});
  expect(memory, "memory", {B, N, W});
  expect(read_weights, "read_weights", {B, R, N});
  expect(write_weights, "write_weights", {B, H, N});
  expect_part(cpu::kDncLink, d.links, "link", {B, H, N, N});
  expect_part(cpu::kDncPrecedence, d.links, "precedence", {B, H, N});
  expect(prev[cpu::kDncUsage], "usage", {B, N});
  expect_part(cpu::kDncValues, d.separate, "values", {B, N, W});

  const DType dt = iface.dtype();
  std::vector<int> parts;
  cpu::DncStateTensors next;
  for (int k = 0; k < cpu::kDncStateParts; ++k)
    if (prev[k].defined()) parts.push_back(k), next[k] = Tensor::empty(prev[k].shape(), dt);
  Tensor words = Tensor::empty({B, R, W}, dt);
  std::vector<const Tensor*> inputs{&iface};
  for (int k : parts) inputs.push_back(&prev[k]);
  bool grad = false;
  for (const Tensor* t : inputs) grad = grad || any_requires_grad({t});
  Tensor saved = grad ? Tensor::empty({B, cpu::dnc_saved_width(d)}, dt) : Tensor();
  std::vector<int32_t> order;
  cpu::dnc_step_forward(d, iface, prev, words, next, &saved, grad ? &order : nullptr);

  std::vector<Tensor> out{words};
  for (int k = 0; k < cpu::kDncStateParts; ++k) out.push_back(next[k]);
  if (grad) {
    auto node = std::make_shared<AllocateAccessStepNode>();
    std::vector<Tensor*> outputs{&out[0]};
    for (int k : parts) outputs.push_back(&out[k + 1]);
    attach_node(node, inputs, outputs);
    node->dims = d;
    node->parts = parts;
    node->iface = iface.detach();
    for (int k : parts) node->prev[k] = prev[k].detach(), node->next[k] = out[k + 1].detach();
    node->saved = saved;
    node->order = std::move(order);
  }
  return out;
}

}  // namespace sdnc
