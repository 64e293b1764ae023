// sequence_sdnc.h — a decoder-only sDNC for sequences of real vectors (the bit tasks: copy,
// repeat-copy, associative recall): the same causal sDNC layers as GPT-2, with a linear
// input projection instead of a token embedding and a linear read-out of Y logits.
//
//   x_t = W_in · inputs_t + b_in + pos(t)      pos: sinusoidal (no length limit), learned
//                                              (pos_embed.weight [P, D]) or none
//   layers.{l}: causal sDNC layers (torch naming: self_attn.*, linear1/2, norm1/2), pre-LN
//   outputs_t = W_out · LN(x_t^L) + b_out      (logits; sigmoid gives the bits)
//
// Names: input.weight [D, X], input.bias, [pos_embed.weight], layers.{l}.*, norm.weight,
// norm.bias, output.weight [Y, D], output.bias. config.json: "model_type": "sdnc" with
// input_size, output_size, d_model, nhead, num_layers, dim_feedforward, activation,
// positions ("sinusoidal" | "learned" | "none"), max_positions (learned only).
// Legend: B batch, T time, X input width, Y output width, D model width, H heads.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sdnc/models/sdnc_layer.h"
#include "sdnc/models/trace.h"

namespace sdnc::models {

enum class Positions { Sinusoidal, Learned, None };

struct SequenceSdncConfig {
  int64_t input_size = 0, output_size = 0;  // X, Y (required)
  int64_t d_model = 64, nhead = 4, num_layers = 2, dim_feedforward = 256;
  std::string activation = "gelu_tanh";
  Positions positions = Positions::Sinusoidal;
  int64_t max_positions = 1024;  // learned positions only
  double layer_norm_eps = 1e-5;

  static SequenceSdncConfig from_json(const nlohmann::json& j, const std::string& where);
  nlohmann::json to_json() const;
};

Positions parse_positions(const std::string& name, const std::string& where);
const char* positions_name(Positions p);
// The Transformer's sinusoidal table: pe[t, 2i] = sin(t / 10000^(2i/D)), pe[t, 2i+1] = cos(..).
Tensor sinusoidal_positions(int64_t first, int64_t count, int64_t d_model, DType dtype);  // [count, D]

class SequenceSdnc : public nn::Module {
 public:
  explicit SequenceSdnc(const SequenceSdncConfig& config);
  const SequenceSdncConfig& config() const { return config_; }
  void init(Generator& g);  // PyTorch defaults for linears, LayerNorm 1/0, N(0, 0.02) positions

  // inputs F32 [B, T, X] → logits [B, T, Y]. Parallel records autograd; recurrent runs one
  // step at a time through each layer's write-once memory (no grad). Trace:
  // "layers.{l}.read_weights" [B, H, T, T].
  Tensor forward(const Tensor& inputs, Form form = Form::Parallel, Trace* trace = nullptr) const;

  std::shared_ptr<nn::Linear> input, output;
  std::shared_ptr<nn::Embedding> pos_embed;  // learned positions only
  std::vector<std::shared_ptr<SdncLayer>> layers;
  std::shared_ptr<nn::LayerNorm> norm;

 private:
  Tensor embed(const Tensor& inputs, int64_t first_position) const;  // [B, n, X] → [B, n, D]
  SequenceSdncConfig config_;
};

}  // namespace sdnc::models
