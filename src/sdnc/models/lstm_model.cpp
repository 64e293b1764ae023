#include "sdnc/models/lstm_model.h"

#include "sdnc/io/config.h"
#include "sdnc/ops/ops.h"

namespace sdnc::models {

using nlohmann::json;

LstmConfig LstmConfig::from_json(const json& j, const std::string& where) {
  io::ConfigReader r(j, where);
  LstmConfig c;
  c.input_size = r.required_positive_int("input_size");
  c.output_size = r.required_positive_int("output_size");
  c.hidden_size = r.positive_int("hidden_size", c.hidden_size);
  c.clip_value = r.clip_value("clip_value", c.clip_value);
  r.reject_unknown({"model_type"});
  return c;
}

json LstmConfig::to_json() const {
  return {{"model_type", "lstm"},
          {"input_size", input_size},
          {"output_size", output_size},
          {"hidden_size", hidden_size},
          {"clip_value", clip_value > 0 ? json(clip_value) : json(nullptr)}};
}

LstmModel::LstmModel(const LstmConfig& c) : config_(c) {
  controllers::RecurrentControllerConfig cc;
  cc.input_size = c.input_size;
  cc.hidden_size = c.hidden_size;
  cc.kind = controllers::ControllerKind::Lstm;
  cc.clip_value = c.clip_value;
  lstm = register_module("lstm", std::make_shared<controllers::RecurrentController>(cc));
  output = register_module("output", std::make_shared<nn::Linear>(c.hidden_size, c.output_size));
}

void LstmModel::init(Generator& g) {
  lstm->init(g);
  output->init_uniform(g);
}

Tensor LstmModel::forward(const Tensor& inputs) const {
  if (!inputs.defined() || inputs.ndim() != 3 || inputs.size(2) != config_.input_size ||
      (inputs.dtype() != DType::F32 && inputs.dtype() != DType::F64))
    fail("lstm", "inputs must be F32 [B, T, {}], got {} {}", config_.input_size,
         inputs.defined() ? dtype_name(inputs.dtype()) : "nothing", inputs.defined() ? shape_str(inputs.shape()) : "");
  if (inputs.numel() == 0) fail("lstm", "inputs are empty (shape {})", shape_str(inputs.shape()));
  int64_t B = inputs.size(0), T = inputs.size(1);
  controllers::ControllerState state = lstm->zero_state(B, inputs.dtype());
  std::vector<Tensor> hs;
  for (int64_t t = 0; t < T; ++t) {
    controllers::ControllerState next;
    Tensor x = reshape(slice(inputs, 1, t, t + 1), {B, config_.input_size});
    hs.push_back(reshape(lstm->step(x, state, &next), {B, 1, config_.hidden_size}));
    state = next;
  }
  return output->forward(concat(hs, 1));  // one GEMM for every step's read-out
}

}  // namespace sdnc::models
