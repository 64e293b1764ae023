#include "sdnc/ops/loss.h"

#include <string>

#include "sdnc/autograd/node.h"
#include "sdnc/backend/cpu/loss.h"
#include "sdnc/ops/checks.h"

namespace sdnc {

namespace {

// "[1, 2]": the multi-index of flat position i in shape s.
std::string position_str(const Shape& s, int64_t i) {
  Shape idx(s.size());
  for (size_t d = s.size(); d-- > 0;) {
    idx[d] = i % s[d];
    i /= s[d];
  }
  return shape_str(idx);
}

// ---- cross-entropy --------------------------------------------------------------------

// Saves logits [R, C], targets [R], the logsumexp per row as max [R] + log Σ exp(x - max) [R],
// and the number of kept targets.
struct CrossEntropyNode : Node {
  Tensor logits, targets, row_max, row_logsum;
  int64_t ignore_index = -100, kept = 0;
  const char* name() const override { return "cross_entropy"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    if (!needs_input_grad(0)) return {Tensor()};
    Tensor d = Tensor::empty(logits.shape(), logits.dtype());
    if (kept == 0) {
      d.fill(0.0);
    } else {
      cpu::cross_entropy_backward(logits, targets, ignore_index, row_max, row_logsum, go[0].item() / static_cast<double>(kept), d);
    }
    return {d};
  }
  void release() override { logits = targets = row_max = row_logsum = Tensor(); }
};

// ---- sigmoid binary cross-entropy -----------------------------------------------------

// Saves logits, targets, mask (may be undefined) and the reduction's divisor.
struct BceWithLogitsNode : Node {
  Tensor logits, targets, mask;
  double divisor = 1.0;
  const char* name() const override { return "sigmoid_bce_with_logits"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    double scale = go[0].item() / divisor;
    Tensor dx, dt, dm;
    if (needs_input_grad(0)) dx = Tensor::empty(logits.shape(), logits.dtype());
    if (needs_input_grad(1)) dt = Tensor::empty(targets.shape(), targets.dtype());
    if (mask.defined() && needs_input_grad(2)) dm = Tensor::empty(mask.shape(), mask.dtype());
    cpu::bce_with_logits_backward(logits, targets, mask, scale, dx, dt, dm);
    return {dx, dt, dm};
  }
  void release() override { logits = targets = mask = Tensor(); }
};

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index) {
  const char* op = "cross_entropy";
  check_float_input(op, logits, "logits");
  check_index_input(op, targets, "targets");
  if (logits.ndim() < 1) fail(op, "logits must have a class dim, got a 0-dim tensor");
  Shape lead(logits.shape().begin(), logits.shape().end() - 1);
  if (targets.shape() != lead)
    fail(op, "targets shape {} != logits shape {} without its class dim ({})", shape_str(targets.shape()),
         shape_str(logits.shape()), shape_str(lead));
  int64_t C = logits.size(-1), R = targets.numel();
  const int64_t* pt = targets.data<int64_t>();
  int64_t kept = 0;
  for (int64_t r = 0; r < R; ++r) {
    if (pt[r] == ignore_index) continue;
    if (pt[r] < 0 || pt[r] >= C)
      fail(op, "target {} at position {} is outside [0, {}) and is not ignore_index ({})", pt[r],
           position_str(lead, r), C, ignore_index);
    ++kept;
  }
  Tensor row_max = Tensor::empty({R}, logits.dtype()), row_logsum = Tensor::empty({R}, logits.dtype());
  double total = cpu::cross_entropy_forward(logits, targets, ignore_index, row_max, row_logsum);
  Tensor loss = Tensor::scalar(kept > 0 ? total / static_cast<double>(kept) : 0.0, logits.dtype());
  if (auto node = record<CrossEntropyNode>({&logits}, loss)) {
    node->logits = logits.detach();
    node->targets = targets.detach();
    node->row_max = row_max;
    node->row_logsum = row_logsum;
    node->ignore_index = ignore_index;
    node->kept = kept;
  }
  return loss;
}

Tensor sigmoid_bce_with_logits(const Tensor& logits, const Tensor& targets, const Tensor& mask,
                               std::string_view reduction) {
  const char* op = "sigmoid_bce_with_logits";
  check_float_input(op, logits, "logits");
  check_float_input(op, targets, "targets");
  check_same_dtype(op, logits, targets);
  if (targets.shape() != logits.shape())
    fail(op, "targets shape {} != logits shape {}", shape_str(targets.shape()), shape_str(logits.shape()));
  if (mask.defined()) {
    check_float_input(op, mask, "mask");
    check_same_dtype(op, logits, mask);
    const Shape &ms = mask.shape(), &ls = logits.shape();
    if (ms.size() > ls.size() || !std::equal(ms.begin(), ms.end(), ls.begin()))
      fail(op, "mask shape {} is neither logits shape {} nor a prefix of it", shape_str(ms), shape_str(ls));
  }
  bool mean = reduction == "mean";
  if (!mean && reduction != "sum") fail(op, "reduction must be \"sum\" or \"mean\", got \"{}\"", reduction);
  double divisor = mean ? static_cast<double>(logits.numel()) : 1.0;
  double total = cpu::bce_with_logits_forward(logits, targets, mask);
  Tensor loss = Tensor::scalar(total / divisor, logits.dtype());
  if (auto node = record<BceWithLogitsNode>({&logits, &targets, &mask}, loss)) {
    node->logits = logits.detach();
    node->targets = targets.detach();
    node->mask = mask.defined() ? mask.detach() : Tensor();
    node->divisor = divisor;
  }
  return loss;
}

}  // namespace sdnc
