#include "sdnc/ops/attention.h"

#include <cmath>
#include <limits>

#include "sdnc/autograd/node.h"
#include "sdnc/backend/cpu/attention.h"
#include "sdnc/ops/checks.h"
#include "sdnc/ops/elementwise.h"
#include "sdnc/ops/matmul.h"
#include "sdnc/ops/shape.h"
#include "sdnc/ops/softmax.h"

namespace sdnc {

namespace {

double resolve_scale(const AttentionOptions& o, int64_t head_dim) {
  return o.scale != 0.0 ? o.scale : 1.0 / std::sqrt(static_cast<double>(head_dim));
}

void check_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask) {
  const char* op = "attention";
  check_float_input(op, q, "q");
  check_float_input(op, k, "k");
  check_float_input(op, v, "v");
  check_same_dtype(op, q, k);
  check_same_dtype(op, q, v);
  check_ndim(op, q, 4, "q [B, H, T, Dh]");
  check_ndim(op, k, 4, "k [B, H, S, Dh]");
  check_ndim(op, v, 4, "v [B, H, S, Dv]");
  if (k.size(0) != q.size(0) || k.size(1) != q.size(1) || k.size(3) != q.size(3))
    fail(op, "k {} does not match q {} in batch, heads or key width", shape_str(k.shape()), shape_str(q.shape()));
  if (v.size(0) != k.size(0) || v.size(1) != k.size(1) || v.size(2) != k.size(2))
    fail(op, "v {} does not match k {} in batch, heads or slots", shape_str(v.shape()), shape_str(k.shape()));
  if (mask.defined()) {
    check_cpu(op, mask);
    if (mask.shape() != Shape{q.size(0), k.size(2)})
      fail(op, "key_padding_mask {} must be [B, S] = [{}, {}]", shape_str(mask.shape()), q.size(0), k.size(2));
  }
}

struct AttentionNode : Node {
  Tensor q, k, v, weights, out;
  double scale;
  bool causal;
  const char* name() const override { return "attention"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    Tensor dq, dk, dv;
    if (needs_input_grad(0)) dq = Tensor::empty(q.shape(), q.dtype());
    if (needs_input_grad(1)) dk = Tensor::empty(k.shape(), k.dtype());
    if (needs_input_grad(2)) dv = Tensor::empty(v.shape(), v.dtype());
    cpu::attention_backward(q, k, v, weights, out, go[0], scale, dq.defined() ? &dq : nullptr,
                            dk.defined() ? &dk : nullptr, dv.defined() ? &dv : nullptr, causal);
    return {dq, dk, dv};
  }
  void release() override { q = k = v = weights = out = Tensor(); }
};

}  // namespace

Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_padding_mask,
                 const AttentionOptions& options, Tensor* weights_out) {
  check_attention(q, k, v, key_padding_mask);
  double scale = resolve_scale(options, q.size(3));
  Tensor weights = Tensor::empty({q.size(0), q.size(1), q.size(2), k.size(2)}, q.dtype());
  Tensor out = Tensor::empty({q.size(0), q.size(1), q.size(2), v.size(3)}, q.dtype());
  cpu::attention_forward(q, k, v, key_padding_mask, options.causal, scale, weights, out);
  if (auto node = record<AttentionNode>({&q, &k, &v}, out)) {
    node->q = q.detach(), node->k = k.detach(), node->v = v.detach();
    node->weights = weights, node->out = out.detach();
    node->scale = scale;
    node->causal = options.causal;
  }
  if (weights_out) *weights_out = weights;
  return out;
}

Tensor attention_reference(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_padding_mask,
                           const AttentionOptions& options) {
  check_attention(q, k, v, key_padding_mask);
  int64_t B = q.size(0), T = q.size(2), S = k.size(2);
  Tensor scores = mul_scalar(matmul(q, transpose(k, 2, 3)), resolve_scale(options, q.size(3)));  // [B,H,T,S]
  // Additive mask [B, 1, T, S]: −inf where hidden.
  Tensor mask = Tensor::zeros({B, 1, T, S}, q.dtype());
  std::vector<double> pad = key_padding_mask.defined() ? key_padding_mask.to_doubles() : std::vector<double>(B * S, 0);
  dispatch_floating(q.dtype(), "attention", [&](auto tag) {
    using F = decltype(tag);
    F* m = mask.data<F>();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < T; ++t)
        for (int64_t j = 0; j < S; ++j)
          if ((options.causal && j > t + (S - T)) || pad[b * S + j] != 0.0)
            m[(b * T + t) * S + j] = -std::numeric_limits<F>::infinity();
  });
  return matmul(softmax(add(scores, mask), -1), v);
}

}  // namespace sdnc
