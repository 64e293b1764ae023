#include "sdnc/controllers/stateless_controller.h"

#include "sdnc/ops/ops.h"

namespace sdnc::controllers {

using nn::WeightLayout;

Activation parse_activation(const std::string& name) {
  if (name == "relu") return Activation::Relu;
  if (name == "gelu") return Activation::Gelu;
  if (name == "gelu_new" || name == "gelu_tanh" || name == "gelu_pytorch_tanh") return Activation::GeluTanh;
  if (name == "swiglu") return Activation::SwiGlu;
  fail("config", "unknown activation '{}' (expected relu, gelu, gelu_new, gelu_tanh, swiglu)", name);
}

Tensor activate(Activation a, const Tensor& x) {
  switch (a) {
    case Activation::Relu: return relu(x);
    case Activation::Gelu: return gelu(x, /*approximate_tanh=*/false);
    case Activation::GeluTanh: return gelu(x, /*approximate_tanh=*/true);
    case Activation::SwiGlu: {
      const int64_t last = x.ndim() - 1, F = x.size(last) / 2;
      Tensor gate = slice(x, last, 0, F), up = slice(x, last, F, 2 * F);
      return mul(mul(gate, sigmoid(gate)), up);  // silu(gate) · up
    }
  }
  return x;
}

HeadProjections::HeadProjections(int64_t d_model, ParamNaming naming) : d_model_(d_model) {
  if (naming == ParamNaming::GPT2) {
    in_ = register_module("c_attn", std::make_shared<nn::Linear>(d_model, 3 * d_model, true, WeightLayout::Conv1D));
    out_ = register_module("c_proj", std::make_shared<nn::Linear>(d_model, d_model, true, WeightLayout::Conv1D));
  } else {
    in_ = register_module("", std::make_shared<nn::Linear>(d_model, 3 * d_model, true, WeightLayout::Linear,
                                                           "in_proj_weight", "in_proj_bias"));
    out_ = register_module("out_proj", std::make_shared<nn::Linear>(d_model, d_model));
  }
}

Tensor HeadProjections::project(const Tensor& a, int64_t first_part, int64_t num_parts) const {
  return in_->forward_part(a, first_part * d_model_, (first_part + num_parts) * d_model_);
}

Tensor HeadProjections::read_out(const Tensor& reads) const { return out_->forward(reads); }

void HeadProjections::init_uniform(Generator& g) {
  in_->init_uniform(g);
  out_->init_uniform(g);
}

FeedForward::FeedForward(int64_t d_model, int64_t d_ffn, Activation act, ParamNaming naming, bool bias)
    : act_(act) {
  if (naming == ParamNaming::GPT2) {
    up_ = register_module("c_fc", std::make_shared<nn::Linear>(d_model, d_ffn, true, WeightLayout::Conv1D));
    down_ = register_module("c_proj", std::make_shared<nn::Linear>(d_ffn, d_model, true, WeightLayout::Conv1D));
  } else {
    const int64_t rows = act == Activation::SwiGlu ? 2 * d_ffn : d_ffn;
    up_ = register_module("linear1", std::make_shared<nn::Linear>(d_model, rows, bias));
    down_ = register_module("linear2", std::make_shared<nn::Linear>(d_ffn, d_model, bias));
  }
}

Tensor FeedForward::forward(const Tensor& x) const { return down_->forward(activate(act_, up_->forward(x))); }

void FeedForward::init_uniform(Generator& g) {
  up_->init_uniform(g);
  down_->init_uniform(g);
}

StatelessController::StatelessController(const ControllerConfig& c) : config_(c) {
  if (c.d_model <= 0 || c.n_heads <= 0 || c.d_model % c.n_heads != 0)
    fail("controller", "d_model {} must be a positive multiple of n_heads {}", c.d_model, c.n_heads);
  bool gpt2 = c.naming == ParamNaming::GPT2;
  if (gpt2 && c.cross) fail("controller", "GPT-2 naming has no cross-attention");
  // Registration order = checkpoint order of the family.
  if (gpt2) {
    norm_self = register_module("ln_1", std::make_shared<nn::LayerNorm>(c.d_model, c.ln_eps));
    self_heads = register_module("attn", std::make_shared<HeadProjections>(c.d_model, c.naming));
    norm_ffn = register_module("ln_2", std::make_shared<nn::LayerNorm>(c.d_model, c.ln_eps));
    ffn = register_module("mlp", std::make_shared<FeedForward>(c.d_model, c.d_ffn, c.activation, c.naming));
    return;
  }
  self_heads = register_module("self_attn", std::make_shared<HeadProjections>(c.d_model, c.naming));
  if (c.cross) cross_heads = register_module("multihead_attn", std::make_shared<HeadProjections>(c.d_model, c.naming));
  ffn = register_module("", std::make_shared<FeedForward>(c.d_model, c.d_ffn, c.activation, c.naming));
  norm_self = register_module("norm1", std::make_shared<nn::LayerNorm>(c.d_model, c.ln_eps));
  if (c.cross) {
    norm_cross = register_module("norm2", std::make_shared<nn::LayerNorm>(c.d_model, c.ln_eps));
    norm_ffn = register_module("norm3", std::make_shared<nn::LayerNorm>(c.d_model, c.ln_eps));
  } else {
    norm_ffn = register_module("norm2", std::make_shared<nn::LayerNorm>(c.d_model, c.ln_eps));
  }
}

void StatelessController::init_uniform(Generator& g) {
  self_heads->init_uniform(g);
  if (cross_heads) cross_heads->init_uniform(g);
  ffn->init_uniform(g);
}

}  // namespace sdnc::controllers
