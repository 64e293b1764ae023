#include "sdnc/ops/sequence_weights.h"

#include <algorithm>
#include <optional>

#include "sdnc/autograd/grad_mode.h"
#include "sdnc/autograd/node.h"
#include "sdnc/backend/cpu/gemm.h"
#include "sdnc/ops/checks.h"
#include "sdnc/ops/elementwise.h"
#include "sdnc/ops/matmul.h"

namespace sdnc {

// Inputs: W_1..W_K, then b (if any); outputs: their aliases, in the same order.
struct SequenceWeightsNode : Node {
  struct Rows {
    Tensor dy;              // [rows, O]
    std::vector<Tensor> x;  // [rows, I_k]
  };
  std::vector<Rows> recorded;
  size_t weights = 0;
  bool has_bias = false;
  SequenceWeightsNode() { runs_without_gradient = true; }
  const char* name() const override { return "sequence_weights"; }

  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    if (recorded.empty()) return go;
    int64_t total = 0;
    for (const Rows& r : recorded) total += r.dy.size(0);
    const int64_t O = recorded[0].dy.size(1);
    const DType dtype = recorded[0].dy.dtype();
    // Stacks one tensor of every step's record as rows: [total, width].
    auto stack_rows = [&](auto tag, auto pick, int64_t width) {
      using T = decltype(tag);
      Tensor out = Tensor::empty({total, width}, dtype);
      T* p = out.data<T>();
      for (const Rows& r : recorded) {
        const Tensor& t = pick(r);
        p = std::copy(t.data<T>(), t.data<T>() + t.numel(), p);
      }
      return out;
    };
    std::vector<Tensor> grads(go.size());
    dispatch_floating(dtype, name(), [&](auto tag) {
      using T = decltype(tag);
      Tensor d = stack_rows(tag, [](const Rows& r) -> const Tensor& { return r.dy; }, O);
      for (size_t k = 0; k < weights; ++k) {
        if (!needs_input_grad(k)) continue;
        const int64_t in = recorded[0].x[k].size(1);
        // Threads as a step's own product would have had (a small layer's batch stays on this thread).
        std::optional<cpu::GemmOnCallingThread> serial;
        if (cpu::gemm_is_small(O, in, recorded[0].dy.size(0))) serial.emplace();
        Tensor x = stack_rows(tag, [k](const Rows& r) -> const Tensor& { return r.x[k]; }, in);
        Tensor dw = go[k].clone();  // what the aliases received directly (zeros when nothing), += Dᵀ·X_k
        cpu::gemm(true, false, O, in, total, T(1), d.data<T>(), O, x.data<T>(), in, T(1), dw.data<T>(), in);
        grads[k] = dw;
      }
      if (has_bias && needs_input_grad(weights)) grads[weights] = add(go[weights], sum_to_shape(d, {O}));
    });
    return grads;
  }
  void release() override { recorded.clear(); }
};

std::shared_ptr<SequenceWeights> SequenceWeights::make(const std::vector<Tensor>& weights, const Tensor& bias) {
  const char* op = "sequence_weights";
  SDNC_CHECK(!weights.empty(), op, "needs at least one weight");
  std::vector<const Tensor*> inputs;
  for (const Tensor& w : weights) {
    check_float_input(op, w, "weight");
    check_ndim(op, w, 2, "weight");
    check_same_dtype(op, weights[0], w);
    if (w.size(0) != weights[0].size(0))
      fail(op, "weights {} and {} have different output widths", shape_str(weights[0].shape()), shape_str(w.shape()));
    inputs.push_back(&w);
  }
  if (bias.defined()) {
    check_float_input(op, bias, "bias");
    check_same_dtype(op, weights[0], bias);
    if (bias.shape() != Shape{weights[0].size(0)})
      fail(op, "bias shape {} != [{}]", shape_str(bias.shape()), weights[0].size(0));
    inputs.push_back(&bias);
  }
  std::vector<Tensor> in_values;
  for (const Tensor* t : inputs) in_values.push_back(*t);
  if (!any_requires_grad(in_values)) return nullptr;
  auto s = std::shared_ptr<SequenceWeights>(new SequenceWeights);
  for (const Tensor& w : weights) s->weights_.push_back(w.detach());
  if (bias.defined()) s->bias_ = bias.detach();
  std::vector<Tensor*> outputs;
  for (Tensor& w : s->weights_) outputs.push_back(&w);
  if (bias.defined()) outputs.push_back(&s->bias_);
  s->node_ = std::make_shared<SequenceWeightsNode>();
  s->node_->weights = weights.size();
  s->node_->has_bias = bias.defined();
  attach_node(s->node_, inputs, outputs);
  return s;
}

bool SequenceWeights::open() const { return !node_->released; }

void SequenceWeights::record(const Tensor& dy, const std::vector<Tensor>& x) const {
  if (node_->released)
    fail("backward", "sequence_weights: a step recorded its rows after the sequence's weight gradient was taken "
                     "(a second backward through the same steps)");
  SDNC_CHECK(x.size() == weights_.size() && dy.ndim() == 2 && dy.size(1) == weights_[0].size(0), "sequence_weights",
             "record: dy {} and {} inputs for {} weights of {} rows", shape_str(dy.shape()), x.size(), weights_.size(),
             weights_[0].size(0));
  for (size_t k = 0; k < x.size(); ++k)
    SDNC_CHECK(x[k].ndim() == 2 && x[k].size(0) == dy.size(0) && x[k].size(1) == weights_[k].size(1),
               "sequence_weights", "record: input {} {} for weight {} and dy {}", k, shape_str(x[k].shape()),
               shape_str(weights_[k].shape()), shape_str(dy.shape()));
  node_->recorded.push_back({dy, x});
}

namespace {

// Inputs: 0 x, 1 the weight's alias, 2 the bias's alias. Its weight gradient goes to the record.
struct SequenceLinearNode : Node {
  Tensor x, weight;
  SequenceWeights weights;
  explicit SequenceLinearNode(const SequenceWeights& w) : weights(w) {}
  const char* name() const override { return "sequence_linear"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    const Tensor& dy = go[0];  // [rows, O]
    Tensor dx;
    if (needs_input_grad(0)) dx = matmul(dy, weight);  // [rows, I]
    if (needs_input_grad(1) || needs_input_grad(2)) weights.record(dy, {x});
    return {dx, Tensor(), Tensor()};
  }
  void release() override { x = weight = Tensor(); }
};

}  // namespace

Tensor sequence_linear(const Tensor& x, const SequenceWeights& weights) {
  const char* op = "sequence_linear";
  check_float_input(op, x, "x");
  check_ndim(op, x, 2, "x");
  SDNC_CHECK(weights.size() == 1, op, "takes one weight, the sequence has {}", weights.size());
  const Tensor &w = weights.weight(0), &b = weights.bias();
  check_same_dtype(op, x, w);
  if (x.size(1) != w.size(1))
    fail(op, "x {} has {} features, the weight {} expects {}", shape_str(x.shape()), x.size(1), shape_str(w.shape()),
         w.size(1));
  Tensor y;
  {
    NoGradGuard no_grad;
    y = linear(x, w, b);
  }
  if (any_requires_grad({&x, &w, &b})) {
    auto node = std::make_shared<SequenceLinearNode>(weights);
    attach_node(node, {&x, &w, &b}, {&y});
    node->x = x.detach();
    node->weight = w.detach();
  }
  return y;
}

}  // namespace sdnc
