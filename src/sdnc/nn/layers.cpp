#include "sdnc/nn/layers.h"

#include <cmath>

#include "sdnc/autograd/grad_mode.h"
#include "sdnc/backend/cpu/packed_gemm.h"
#include "sdnc/ops/ops.h"

namespace sdnc::nn {

Linear::Linear(int64_t in_features, int64_t out_features, bool has_bias, WeightLayout weight_layout,
               const std::string& weight_name, const std::string& bias_name)
    : in(in_features), out(out_features), layout(weight_layout) {
  Shape ws = layout == WeightLayout::Linear ? Shape{out, in} : Shape{in, out};
  weight = register_parameter(weight_name, Tensor::zeros(ws));
  if (has_bias) bias = register_parameter(bias_name, Tensor::zeros({out}));
}

Tensor Linear::forward_part(const Tensor& x, int64_t begin, int64_t end) const {
  if (begin == 0 && end == out) return forward(x);
  Tensor b = bias.defined() ? slice(bias, 0, begin, end) : Tensor();
  if (layout == WeightLayout::Linear) return linear(x, slice(weight, 0, begin, end), b);
  Tensor y = matmul(x, slice(weight, 1, begin, end));
  return b.defined() ? add(y, b) : y;
}

Tensor Linear::forward(const Tensor& x) const {
  if (packed && x.dtype() == DType::F32 && !grad_enabled() && x.ndim() >= 1 && x.size(-1) == in &&
      x.numel() / in <= kPackedRows && weight.dtype() == DType::F32 && weight.data<float>() == packed_from_)
    return packed_linear(x, *packed, bias);
  if (layout == WeightLayout::Linear) return linear(x, weight, bias);
  Tensor y = matmul(x, weight);
  return bias.defined() ? add(y, bias) : y;
}

void Linear::pack_for_inference(bool on) {
  packed.reset(), packed_from_ = nullptr;
  if (!on || layout != WeightLayout::Linear || weight.dtype() != DType::F32 || !cpu::packed_gemm_available()) return;
  packed = std::make_shared<const cpu::PackedWeight>(cpu::pack_weight(weight.data<float>(), out, in));
  packed_from_ = weight.data<float>();
}

void Linear::init_uniform(Generator& g) {
  double bound = 1.0 / std::sqrt(static_cast<double>(in));
  g.fill_uniform(weight, -bound, bound);
  if (bias.defined()) g.fill_uniform(bias, -bound, bound);
}

void Linear::init_normal(Generator& g, double stddev) {
  g.fill_normal(weight, 0.0, stddev);
  if (bias.defined()) bias.fill(0.0);
}

LayerNorm::LayerNorm(int64_t dim, double epsilon) : eps(epsilon) {
  weight = register_parameter("weight", Tensor::ones({dim}));
  bias = register_parameter("bias", Tensor::zeros({dim}));
}

Tensor LayerNorm::forward(const Tensor& x) const { return layer_norm(x, weight, bias, eps); }

RmsNorm::RmsNorm(int64_t dim, double epsilon) : eps(epsilon) { weight = register_parameter("weight", Tensor::ones({dim})); }

Tensor RmsNorm::forward(const Tensor& x) const {
  Tensor inv_rms = div(Tensor::ones({1}, x.dtype()), sqrt(add_scalar(mean(mul(x, x), -1, true), eps)));
  return mul(mul(x, inv_rms), weight);
}

Embedding::Embedding(int64_t num, int64_t dim) { weight = register_parameter("weight", Tensor::zeros({num, dim})); }

Tensor Embedding::forward(const Tensor& idx) const { return embedding(weight, idx); }

void Embedding::init_normal(Generator& g, double stddev) { g.fill_normal(weight, 0.0, stddev); }

}  // namespace sdnc::nn
