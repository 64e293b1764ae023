#include "sdnc/ops/lstm_cell.h"

#include <algorithm>

#include "sdnc/autograd/node.h"
#include "sdnc/backend/cpu/gemm.h"
#include "sdnc/backend/cpu/lstm_cell.h"
#include "sdnc/ops/checks.h"
#include "sdnc/ops/elementwise.h"

namespace sdnc {

namespace {

// Saves the inputs (aliases), the activated gates [B, 4Hd] and tanh(c_next) [B, Hd].
// Inputs: 0 x, 1 h, 2 c, 3 w_ih, 4 w_hh, 5 bias. Outputs: 0 h_next, 1 c_next.
struct LstmCellNode : Node {
  Tensor x, h, c, w_ih, w_hh, gates, tanh_c;
  bool has_bias = false;
  std::shared_ptr<SequenceWeights> sequence;  // set: the weight gradients go to its record
  const char* name() const override { return "lstm_cell"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    int64_t B = x.size(0), X = x.size(1), Hd = h.size(1), G = 4 * Hd;
    // dgates (d pre-activations) and dc in one fused pass.
    Tensor dgates = Tensor::empty({B, G}, x.dtype());
    Tensor dc = needs_input_grad(2) ? Tensor::empty(c.shape(), c.dtype()) : Tensor();
    cpu::lstm_cell_pointwise_backward(gates, c, tanh_c, go[0], go[1], dgates, dc);
    // Then GEMMs: dx = dgates·w_ih, dh = dgates·w_hh, dw_ih = dgatesᵀ·x, dw_hh = dgatesᵀ·h.
    Tensor dx, dh, dw_ih, dw_hh, dbias;
    dispatch_floating(x.dtype(), "lstm_cell", [&](auto tag) {
      using T = decltype(tag);
      const T* pdg = dgates.data<T>();
      if (needs_input_grad(0)) {
        dx = Tensor::empty({B, X}, x.dtype());
        cpu::gemm(false, false, B, X, G, T(1), pdg, G, w_ih.data<T>(), X, T(0), dx.data<T>(), X);
      }
      if (needs_input_grad(1)) {
        dh = Tensor::empty({B, Hd}, x.dtype());
        cpu::gemm(false, false, B, Hd, G, T(1), pdg, G, w_hh.data<T>(), Hd, T(0), dh.data<T>(), Hd);
      }
      if (sequence) {
        if (needs_input_grad(3) || needs_input_grad(4) || needs_input_grad(5)) sequence->record(dgates, {x, h});
        return;
      }
      if (needs_input_grad(3)) {
        dw_ih = Tensor::empty({G, X}, x.dtype());
        cpu::gemm(true, false, G, X, B, T(1), pdg, G, x.data<T>(), X, T(0), dw_ih.data<T>(), X);
      }
      if (needs_input_grad(4)) {
        dw_hh = Tensor::empty({G, Hd}, x.dtype());
        cpu::gemm(true, false, G, Hd, B, T(1), pdg, G, h.data<T>(), Hd, T(0), dw_hh.data<T>(), Hd);
      }
    });
    if (has_bias && needs_input_grad(5) && !sequence) dbias = sum_to_shape(dgates, {G});
    return {dx, dh, dc, dw_ih, dw_hh, dbias};
  }
  void release() override {
    x = h = c = w_ih = w_hh = gates = tanh_c = Tensor();
    sequence.reset();
  }
};

}  // namespace

namespace {

std::vector<Tensor> lstm_cell_impl(const Tensor& x, const Tensor& h, const Tensor& c, const Tensor& w_ih,
                                   const Tensor& w_hh, const Tensor& bias, double forget_bias,
                                   const SequenceWeights* sequence) {
  const char* op = "lstm_cell";
  check_float_input(op, x, "x");
  check_float_input(op, h, "h");
  check_float_input(op, c, "c");
  check_float_input(op, w_ih, "w_ih");
  check_float_input(op, w_hh, "w_hh");
  for (const Tensor* t : {&h, &c, &w_ih, &w_hh}) check_same_dtype(op, x, *t);
  check_ndim(op, x, 2, "x");
  check_ndim(op, h, 2, "h");
  check_ndim(op, c, 2, "c");
  check_ndim(op, w_ih, 2, "w_ih");
  check_ndim(op, w_hh, 2, "w_hh");
  int64_t B = x.size(0), X = x.size(1), Hd = h.size(1), G = 4 * Hd;
  if (h.size(0) != B) fail(op, "h {} has batch {}, x {} has batch {}", shape_str(h.shape()), h.size(0), shape_str(x.shape()), B);
  if (c.shape() != h.shape()) fail(op, "c shape {} != h shape {}", shape_str(c.shape()), shape_str(h.shape()));
  if (w_ih.shape() != Shape{G, X})
    fail(op, "w_ih shape {} != [4Hd, X] = [{}, {}]", shape_str(w_ih.shape()), G, X);
  if (w_hh.shape() != Shape{G, Hd})
    fail(op, "w_hh shape {} != [4Hd, Hd] = [{}, {}]", shape_str(w_hh.shape()), G, Hd);
  if (bias.defined()) {
    check_float_input(op, bias, "bias");
    check_same_dtype(op, x, bias);
    if (bias.shape() != Shape{G}) fail(op, "bias shape {} != [4Hd] = [{}]", shape_str(bias.shape()), G);
  }

  // Gates via BLAS: gates = bias (broadcast) + x·w_ihᵀ + h·w_hhᵀ.
  Tensor gates = Tensor::empty({B, G}, x.dtype());
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    T* pg = gates.data<T>();
    if (bias.defined()) {
      const T* pb = bias.data<T>();
      for (int64_t r = 0; r < B; ++r) std::copy(pb, pb + G, pg + r * G);
    }
    cpu::gemm(false, true, B, G, X, T(1), x.data<T>(), X, w_ih.data<T>(), X, T(bias.defined() ? 1 : 0), pg, G);
    cpu::gemm(false, true, B, G, Hd, T(1), h.data<T>(), Hd, w_hh.data<T>(), Hd, T(1), pg, G);
  });
  Tensor h_next = Tensor::empty({B, Hd}, x.dtype()), c_next = Tensor::empty({B, Hd}, x.dtype());
  Tensor tanh_c = Tensor::empty({B, Hd}, x.dtype());
  cpu::lstm_cell_pointwise(gates, c, forget_bias, h_next, c_next, tanh_c);

  if (any_requires_grad({&x, &h, &c, &w_ih, &w_hh, &bias})) {
    auto node = std::make_shared<LstmCellNode>();
    attach_node(node, {&x, &h, &c, &w_ih, &w_hh, &bias}, {&h_next, &c_next});
    node->x = x.detach(), node->h = h.detach(), node->c = c.detach();
    node->w_ih = w_ih.detach(), node->w_hh = w_hh.detach();
    node->gates = gates;
    node->tanh_c = tanh_c;
    node->has_bias = bias.defined();
    if (sequence) node->sequence = std::make_shared<SequenceWeights>(*sequence);
  }
  return {h_next, c_next};
}

}  // namespace

std::vector<Tensor> lstm_cell(const Tensor& x, const Tensor& h, const Tensor& c, const Tensor& w_ih,
                              const Tensor& w_hh, const Tensor& bias, double forget_bias) {
  return lstm_cell_impl(x, h, c, w_ih, w_hh, bias, forget_bias, nullptr);
}

std::vector<Tensor> lstm_cell(const Tensor& x, const Tensor& h, const Tensor& c, const SequenceWeights& weights,
                              double forget_bias) {
  SDNC_CHECK(weights.size() == 2, "lstm_cell", "a sequence's weights must be [w_ih, w_hh], got {}", weights.size());
  return lstm_cell_impl(x, h, c, weights.weight(0), weights.weight(1), weights.bias(), forget_bias, &weights);
}

}  // namespace sdnc
