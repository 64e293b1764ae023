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

cpu::WeightFormat weight_format(const std::string& f) {
  if (f == "bf16") return cpu::WeightFormat::BF16;
  if (f == "int8") return cpu::WeightFormat::Int8;
  fail(kOp, "weight format '{}' has no packed copies (choose {})", f, kDecodeWeightFormats);
}

}  // namespace

// Four matrices per layer (qkv, out, up, down), then the head's when there is one.
struct DecodeWeightCopies {
  cpu::WeightFormat format;
  std::vector<cpu::PackedMatrix> matrices;
};

std::string decode_weights_format(const DecodeWeightCopies& c) { return cpu::weight_format_name(c.format); }

int64_t decode_weights_bytes(const DecodeWeightCopies& c) {
  int64_t bytes = 0;
  for (const auto& m : c.matrices) bytes += m.bytes();
  return bytes;
}

std::shared_ptr<const DecodeWeightCopies> pack_decode_weights(const std::vector<DecodeLayerTensors>& layers,
                                                              const DecodeStepOptions& o, const Tensor& head_weight,
                                                              const std::string& format) {
  auto copies = std::make_shared<DecodeWeightCopies>();
  copies->format = weight_format(format);
  // [out, in] (Linear) or [in, out] (Conv1D) → K = in, N = out.
  auto pack = [&](const Tensor& w, bool conv1d, const std::string& what) {
    if (!w.defined() || w.dtype() != DType::F32 || w.ndim() != 2)
      fail(kOp, "pack_decode_weights: {} must be an F32 matrix", what);
    const int64_t K = conv1d ? w.size(0) : w.size(1), N = conv1d ? w.size(1) : w.size(0);
    copies->matrices.push_back(cpu::pack_matrix(w.data<float>(), K, N, conv1d, copies->format));
  };
  for (size_t i = 0; i < layers.size(); ++i) {
    const DecodeLayerTensors& t = layers[i];
    const std::string l = fmt::format("layer {} ", i);
    pack(t.qkv_weight, o.conv1d, l + "qkv weight"), pack(t.out_weight, o.conv1d, l + "read-out weight");
    pack(t.up_weight, o.conv1d, l + "up weight"), pack(t.down_weight, o.conv1d, l + "down weight");
  }
  if (head_weight.defined()) pack(head_weight, false, "head weight");
  return copies;
}

Tensor decode_step(const Tensor& x, int64_t n, const std::vector<DecodeLayerTensors>& layers,
                   const DecodeStepOptions& o, const Tensor& head_norm_weight, const Tensor& head_norm_bias,
                   const Tensor& head_weight, const DecodeWeightCopies* copies) {
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
  if (copies && copies->matrices.size() != 4 * layers.size() + (head_weight.defined() ? 1 : 0))
    fail(kOp, "weight copies hold {} matrices, the layers and head {}", copies->matrices.size(),
         4 * layers.size() + (head_weight.defined() ? 1 : 0));
  // The packed copy of matrix k when there are copies (its shape checked against the tensor's).
  auto matrix = [&](size_t k, const float* f32, int64_t out, int64_t in, const std::string& what) {
    cpu::DecodeMatrix m{f32, nullptr};
    if (!copies) return m;
    const cpu::PackedMatrix& p = copies->matrices[k];
    if (p.N != out || p.K != in) fail(kOp, "{}: its {} copy is [out {}, in {}], the tensor [out {}, in {}]", what,
                                      decode_weights_format(*copies), p.N, p.K, out, in);
    m.packed = &p;
    return m;
  };
  std::vector<cpu::DecodeLayer> raw;
  for (size_t i = 0; i < layers.size(); ++i) {
    const DecodeLayerTensors& t = layers[i];
    const std::string l = fmt::format("layer {}", i);
    cpu::DecodeLayer w{};
    w.norm1_w = f32(t.norm1_weight, {D}, "norm1 weight", l), w.norm1_b = f32(t.norm1_bias, {D}, "norm1 bias", l, true);
    w.qkv = matrix(4 * i, f32(t.qkv_weight, mat(Q, D), "qkv weight", l), Q, D, l + " qkv weight");
    w.qkv_b = f32(t.qkv_bias, {Q}, "qkv bias", l, true);
    w.out = matrix(4 * i + 1, f32(t.out_weight, mat(D, RW), "read-out weight", l), D, RW, l + " read-out weight");
    w.out_b = f32(t.out_bias, {D}, "read-out bias", l, true);
    w.norm2_w = f32(t.norm2_weight, {D}, "norm2 weight", l), w.norm2_b = f32(t.norm2_bias, {D}, "norm2 bias", l, true);
    w.up = matrix(4 * i + 2, f32(t.up_weight, mat(F, D), "up weight", l), F, D, l + " up weight");
    w.up_b = f32(t.up_bias, {F}, "up bias", l, true);
    w.down = matrix(4 * i + 3, f32(t.down_weight, mat(D, F), "down weight", l), D, F, l + " down weight");
    w.down_b = f32(t.down_bias, {D}, "down bias", l, true);
    for (const Tensor* b : {&t.key_buffer, &t.value_buffer})
      if (!b->defined() || b->dtype() != DType::F32 || b->ndim() != 3 || b->size(0) != 1 || b->size(2) != SW ||
          b->size(1) <= n)
        fail(kOp, "{}: memory buffers must be F32 [1, capacity > {}, {}], got {}", l, n, SW,
             b->defined() ? shape_str(b->shape()) : "nothing");
    w.keys = t.key_buffer.data<float>(), w.values = t.value_buffer.data<float>();
    raw.push_back(w);
  }
  cpu::DecodeHead head;
  Tensor out;
  if (head_weight.defined()) {
    if (head_weight.dtype() != DType::F32 || head_weight.ndim() != 2 || head_weight.size(1) != D)
      fail(kOp, "head weight must be F32 [V, {}], got {}", D, shape_str(head_weight.shape()));
    head.V = head_weight.size(0);
    head.weight = matrix(4 * layers.size(), head_weight.data<float>(), head.V, D, "head weight");
    head.norm_w = f32(head_norm_weight, {D}, "head norm weight", "head"), head.norm_b = f32(head_norm_bias, {D}, "head norm bias", "head", true);
    out = Tensor::empty({1, head.V}, DType::F32);
  }
  Tensor y = x.clone();
  cpu::decode_step(s, raw, n, y.data<float>(), head, out.defined() ? out.data<float>() : nullptr);
  return out.defined() ? out : y;
}

}  // namespace sdnc
