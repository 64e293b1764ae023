#include "sdnc/models/sequence_sdnc.h"

#include <cmath>

#include "sdnc/autograd/grad_mode.h"
#include "sdnc/io/config.h"
#include "sdnc/ops/ops.h"

namespace sdnc::models {

using nlohmann::json;

Positions parse_positions(const std::string& name, const std::string& where) {
  if (name == "sinusoidal") return Positions::Sinusoidal;
  if (name == "learned") return Positions::Learned;
  if (name == "none") return Positions::None;
  fail("config", "{}: key 'positions' must be \"sinusoidal\", \"learned\" or \"none\", got \"{}\"", where, name);
}

const char* positions_name(Positions p) {
  switch (p) {
    case Positions::Sinusoidal: return "sinusoidal";
    case Positions::Learned: return "learned";
    case Positions::None: return "none";
  }
  return "?";
}

SequenceSdncConfig SequenceSdncConfig::from_json(const json& j, const std::string& where) {
  io::ConfigReader r(j, where);
  SequenceSdncConfig c;
  c.input_size = r.required_positive_int("input_size");
  c.output_size = r.required_positive_int("output_size");
  c.d_model = r.positive_int("d_model", c.d_model);
  c.nhead = r.positive_int("nhead", c.nhead);
  c.num_layers = r.positive_int("num_layers", c.num_layers);
  c.dim_feedforward = r.positive_int("dim_feedforward", c.dim_feedforward);
  c.activation = r.string("activation", c.activation);
  c.positions = parse_positions(r.string("positions", positions_name(c.positions)), where);
  c.max_positions = r.positive_int("max_positions", c.max_positions);
  c.layer_norm_eps = r.positive_number("layer_norm_eps", c.layer_norm_eps);
  if (c.d_model % c.nhead != 0) fail("config", "{}: d_model {} is not divisible by nhead {}", where, c.d_model, c.nhead);
  controllers::parse_activation(c.activation);
  r.reject_unknown({"model_type"});
  return c;
}

json SequenceSdncConfig::to_json() const {
  json j = {{"model_type", "sdnc"},         {"input_size", input_size},
            {"output_size", output_size},   {"d_model", d_model},
            {"nhead", nhead},               {"num_layers", num_layers},
            {"dim_feedforward", dim_feedforward}, {"activation", activation},
            {"positions", positions_name(positions)}, {"layer_norm_eps", layer_norm_eps}};
  if (positions == Positions::Learned) j["max_positions"] = max_positions;
  return j;
}

Tensor sinusoidal_positions(int64_t first, int64_t count, int64_t D, DType dtype) {
  Tensor pe = Tensor::zeros({count, D}, DType::F64);
  double* p = pe.data<double>();
  for (int64_t t = 0; t < count; ++t)
    for (int64_t i = 0; i < D; i += 2) {
      double angle = static_cast<double>(first + t) / std::pow(10000.0, static_cast<double>(i) / static_cast<double>(D));
      p[t * D + i] = std::sin(angle);
      if (i + 1 < D) p[t * D + i + 1] = std::cos(angle);
    }
  return dtype == DType::F64 ? pe : pe.to(dtype);
}

SequenceSdnc::SequenceSdnc(const SequenceSdncConfig& c) : config_(c) {
  input = register_module("input", std::make_shared<nn::Linear>(c.input_size, c.d_model));
  if (c.positions == Positions::Learned)
    pos_embed = register_module("pos_embed", std::make_shared<nn::Embedding>(c.max_positions, c.d_model));
  LayerConfig lc;
  lc.controller.d_model = c.d_model;
  lc.controller.n_heads = c.nhead;
  lc.controller.d_ffn = c.dim_feedforward;
  lc.controller.activation = controllers::parse_activation(c.activation);
  lc.controller.norm_first = true;
  lc.controller.ln_eps = c.layer_norm_eps;
  lc.controller.naming = controllers::ParamNaming::Torch;
  for (int64_t l = 0; l < c.num_layers; ++l)
    layers.push_back(register_module("layers." + std::to_string(l), std::make_shared<SdncLayer>(lc)));
  norm = register_module("norm", std::make_shared<nn::LayerNorm>(c.d_model, c.layer_norm_eps));
  output = register_module("output", std::make_shared<nn::Linear>(c.d_model, c.output_size));
}

void SequenceSdnc::init(Generator& g) {
  input->init_uniform(g);
  if (pos_embed) pos_embed->init_normal(g, 0.02);
  for (auto& layer : layers) layer->controller->init_uniform(g);
  norm->weight.fill(1.0);
  norm->bias.fill(0.0);
  output->init_uniform(g);
}

Tensor SequenceSdnc::embed(const Tensor& inputs, int64_t first) const {
  int64_t n = inputs.size(1);
  Tensor x = input->forward(inputs);
  if (config_.positions == Positions::Sinusoidal)
    return add(x, sinusoidal_positions(first, n, config_.d_model, x.dtype()));
  if (config_.positions == Positions::Learned) {
    if (first + n > config_.max_positions)
      fail("sdnc", "sequence of {} steps exceeds max_positions {} (learned positions)", first + n,
           config_.max_positions);
    std::vector<int64_t> pos(n);
    for (int64_t i = 0; i < n; ++i) pos[i] = first + i;
    return add(x, pos_embed->forward(Tensor::from_indices(pos, {n})));
  }
  return x;
}

Tensor SequenceSdnc::forward(const Tensor& inputs, Form form, Trace* trace) const {
  if (!inputs.defined() || inputs.ndim() != 3 || inputs.size(2) != config_.input_size ||
      (inputs.dtype() != DType::F32 && inputs.dtype() != DType::F64))
    fail("sdnc", "inputs must be F32 [B, T, {}], got {} {}", config_.input_size,
         inputs.defined() ? dtype_name(inputs.dtype()) : "nothing", inputs.defined() ? shape_str(inputs.shape()) : "");
  if (inputs.numel() == 0) fail("sdnc", "inputs are empty (shape {})", shape_str(inputs.shape()));
  auto trace_name = [](size_t l) { return "layers." + std::to_string(l) + ".read_weights"; };
  if (form == Form::Parallel) {
    Tensor x = embed(inputs, 0);
    for (size_t l = 0; l < layers.size(); ++l) {
      ParallelContext ctx;
      Tensor w;
      if (trace) ctx.self_weights = &w;
      x = layers[l]->forward_parallel(x, ctx);
      if (trace) (*trace)[trace_name(l)] = w;
    }
    return output->forward(norm->forward(x));
  }
  // Recurrent: step t writes one slot per layer and reads slots 0..t.
  NoGradGuard no_grad;
  int64_t B = inputs.size(0), T = inputs.size(1);
  std::vector<LayerMemories> memories(layers.size());
  std::vector<Tensor> weights(layers.size()), steps;
  if (trace)
    for (auto& w : weights) w = Tensor::zeros({B, config_.nhead, T, T}, inputs.dtype());
  for (int64_t t = 0; t < T; ++t) {
    Tensor x = embed(slice(inputs, 1, t, t + 1), t);
    for (size_t l = 0; l < layers.size(); ++l) {
      Tensor w;
      x = layers[l]->step(x, memories[l], true, true, Tensor(), trace ? &w : nullptr);
      if (trace) place_read_weights_row(weights[l], w, t);
    }
    steps.push_back(output->forward(norm->forward(x)));
  }
  if (trace)
    for (size_t l = 0; l < layers.size(); ++l) (*trace)[trace_name(l)] = weights[l];
  return concat(steps, 1);
}

}  // namespace sdnc::models
