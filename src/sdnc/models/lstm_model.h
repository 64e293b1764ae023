// lstm_model.h — the LSTM baseline: one LSTM layer (the DNC's controller without memory,
// forget bias 1.0 at run time, no clipping by default) and a linear read-out.
//
//   h_t = LSTM(x_t, h_{t−1});  outputs_t = W_out · h_t + b_out   (logits)
//
// Names: lstm.weight_ih [4h, X], lstm.weight_hh [4h, h], lstm.bias [4h] (gate order i, f, g,
// o), output.weight [Y, h], output.bias [Y]. config.json: "model_type": "lstm" with
// input_size, output_size, hidden_size, clip_value (0 / null: off).
// Legend: B batch, T time, X input width, Y output width, h hidden size.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "sdnc/controllers/recurrent_controller.h"
#include "sdnc/nn/layers.h"

namespace sdnc::models {

struct LstmConfig {
  int64_t input_size = 0, output_size = 0, hidden_size = 128;
  double clip_value = 0.0;

  static LstmConfig from_json(const nlohmann::json& j, const std::string& where);
  nlohmann::json to_json() const;
};

class LstmModel : public nn::Module {
 public:
  explicit LstmModel(const LstmConfig& config);
  const LstmConfig& config() const { return config_; }
  void init(Generator& g);
  // inputs F32 [B, T, X] → logits [B, T, Y], from the zero state.
  Tensor forward(const Tensor& inputs) const;

  std::shared_ptr<controllers::RecurrentController> lstm;
  std::shared_ptr<nn::Linear> output;

 private:
  LstmConfig config_;
};

}  // namespace sdnc::models
