#include "sdnc/ops/decode_step.h"

#include "sdnc/backend/cpu/decode_step.h"
#include "sdnc/core/error.h"

namespace sdnc {

namespace {

constexpr const char* kOp = "decode_step";

const float* f32(const Tensor& t, const Shape& shape, const char* what, const std::string& where,
                 bool optional = false) {
  if (!t.defined()) {
    if (optional) return nullptr;
    fail(kOp, "{}: {} is missing", where, what);
  }
  if (t.dtype() != DType::F32 || t.shape() != shape)
    fail(kOp, "{}: {} must be F32 {}, got {} {}", where, what, shape_str(shape), dtype_name(t.dtype()),
         shape_str(t.shape()));
  return t.data<float>();
}

cpu::RowEpilogue epilogue(const std::string& a) {
  if (a == "relu") return cpu::RowEpilogue::Relu;
  if (a == "gelu") return cpu::RowEpilogue::Gelu;
  if (a == "gelu_tanh" || a == "gelu_new") return cpu::RowEpilogue::GeluTanh;
  fail(kOp, "activation '{}' has no fused epilogue (relu, gelu, gelu_tanh)", a);
}

}  // namespace

Tensor decode_step(const Tensor& x, int64_t n, const std::vector<DecodeLayerTensors>& layers,
                   const DecodeStepOptions& o, const Tensor& head_norm_weight, const Tensor& head_norm_bias,
                   const Tensor& head_weight) {
  if (!x.defined() || x.dtype() != DType::F32 || x.ndim() != 2 || x.size(0) != 1)
    fail(kOp, "x must be F32 [1, D], got {}", x.defined() ? shape_str(x.shape()) : "nothing");
  if (layers.empty()) fail(kOp, "no layers");
  cpu::DecodeShape s;
  s.D = x.size(1), s.R = o.read_heads, s.S = o.slices, s.W = o.word_size, s.eps = o.eps, s.conv1d = o.conv1d;
  s.activation = epilogue(o.activation);
  if (s.R <= 0 || s.S <= 0 || s.W <= 0 || s.R % s.S != 0)
    fail(kOp, "read_heads {} must be a positive multiple of slices {} (word_size {})", s.R, s.S, s.W);
  s.F = layers[0].up_weight.defined() ? layers[0].up_weight.size(o.conv1d ? 1 : 0) : 0;
  const int64_t D = s.D, F = s.F, RW = s.R * s.W, SW = s.S * s.W, Q = RW + 2 * SW;
  auto mat = [&](int64_t out, int64_t in) { return o.conv1d ? Shape{in, out} : Shape{out, in}; };
  std::vector<cpu::DecodeLayerF32> raw;
  for (size_t i = 0; i < layers.size(); ++i) {
    const DecodeLayerTensors& t = layers[i];
    const std::string l = fmt::format("layer {}", i);
    cpu::DecodeLayerF32 w{};
    w.norm1_w = f32(t.norm1_weight, {D}, "norm1 weight", l), w.norm1_b = f32(t.norm1_bias, {D}, "norm1 bias", l, true);
    w.qkv_w = f32(t.qkv_weight, mat(Q, D), "qkv weight", l), w.qkv_b = f32(t.qkv_bias, {Q}, "qkv bias", l, true);
    w.out_w = f32(t.out_weight, mat(D, RW), "read-out weight", l);
    w.out_b = f32(t.out_bias, {D}, "read-out bias", l, true);
    w.norm2_w = f32(t.norm2_weight, {D}, "norm2 weight", l), w.norm2_b = f32(t.norm2_bias, {D}, "norm2 bias", l, true);
    w.up_w = f32(t.up_weight, mat(F, D), "up weight", l), w.up_b = f32(t.up_bias, {F}, "up bias", l, true);
    w.down_w = f32(t.down_weight, mat(D, F), "down weight", l), w.down_b = f32(t.down_bias, {D}, "down bias", l, true);
    for (const Tensor* b : {&t.key_buffer, &t.value_buffer})
      if (!b->defined() || b->dtype() != DType::F32 || b->ndim() != 3 || b->size(0) != 1 || b->size(2) != SW ||
          b->size(1) <= n)
        fail(kOp, "{}: memory buffers must be F32 [1, capacity > {}, {}], got {}", l, n, SW,
             b->defined() ? shape_str(b->shape()) : "nothing");
    w.keys = t.key_buffer.data<float>(), w.values = t.value_buffer.data<float>();
    raw.push_back(w);
  }
  cpu::DecodeHeadF32 head;
  Tensor out;
  if (head_weight.defined()) {
    if (head_weight.dtype() != DType::F32 || head_weight.ndim() != 2 || head_weight.size(1) != D)
      fail(kOp, "head weight must be F32 [V, {}], got {}", D, shape_str(head_weight.shape()));
    head.V = head_weight.size(0), head.weight = head_weight.data<float>();
    head.norm_w = f32(head_norm_weight, {D}, "head norm weight", "head"), head.norm_b = f32(head_norm_bias, {D}, "head norm bias", "head", true);
    out = Tensor::empty({1, head.V}, DType::F32);
  }
  Tensor y = x.clone();
  cpu::decode_step_f32(s, raw, n, y.data<float>(), head, out.defined() ? out.data<float>() : nullptr);
  return out.defined() ? out : y;
}

}  // namespace sdnc
