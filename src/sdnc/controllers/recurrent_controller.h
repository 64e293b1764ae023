// recurrent_controller.h — the DNC's controller (DNC.md A.1): a single-layer LSTM with the
// forget bias 1.0 added at run time, or a feed-forward layer; its output and (LSTM) state
// are clipped elementwise to ±clip_value (DeepMind clips the LSTM output, hidden and cell
// state; clip_value ≤ 0 turns clipping off).
//
//   lstm        : gates = χ·W_ihᵀ + h·W_hhᵀ + b, PyTorch gate order i, f, g, o;
//                 c' = σ(f + 1)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c');
//                 output = clip(h'), next state = (clip(h'), clip(c'))
//   feedforward : output = clip(tanh(χ·W_ihᵀ + b)); no state (the DNC still feeds the
//                 previous reads into χ)
// Parameters: weight_ih [4h, I] (feedforward: [h, I]), weight_hh [4h, h] (LSTM only),
// bias [4h] (feedforward: [h]). Legend: B batch, I input width, h hidden size.
#pragma once
#include <string>

#include "sdnc/nn/module.h"
#include "sdnc/ops/sequence_weights.h"

namespace sdnc::controllers {

enum class ControllerKind { Lstm, FeedForward };

ControllerKind parse_controller_kind(const std::string& name);  // "lstm" | "feedforward"
const char* controller_kind_name(ControllerKind k);

struct RecurrentControllerConfig {
  int64_t input_size = 0, hidden_size = 64;
  ControllerKind kind = ControllerKind::Lstm;
  double clip_value = 20.0;  // ≤ 0: off
  double forget_bias = 1.0;
};

struct ControllerState {
  Tensor h, c;  // [B, h] each (undefined for feedforward)
  // Training: the LSTM weights of the sequence so far (ops/sequence_weights.h), whose gradient
  // is one GEMM over all its steps; the next step starts a new one when this one is absent or
  // its backward has run. Null without gradients.
  std::shared_ptr<SequenceWeights> sequence;
};

// min(max(x, −clip), clip), or x itself when clip ≤ 0.
Tensor clip_if_enabled(const Tensor& x, double clip);

class RecurrentController : public nn::Module {
 public:
  explicit RecurrentController(const RecurrentControllerConfig& config);
  const RecurrentControllerConfig& config() const { return config_; }

  // Sonnet's initialisation: weights and bias truncated normal, std 1/√fan_in (fan_in = I + h
  // for the LSTM, I for feedforward).
  void init(Generator& g);

  ControllerState zero_state(int64_t batch, DType dtype = DType::F32) const;

  // χ [B, I], previous state → output [B, h]; *next receives the next state.
  Tensor step(const Tensor& x, const ControllerState& prev, ControllerState* next) const;

  Tensor weight_ih, weight_hh, bias;

 private:
  RecurrentControllerConfig config_;
};

}  // namespace sdnc::controllers
