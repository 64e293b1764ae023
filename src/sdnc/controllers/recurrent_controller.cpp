#include "sdnc/controllers/recurrent_controller.h"

#include <cmath>

#include "sdnc/ops/ops.h"

namespace sdnc::controllers {

ControllerKind parse_controller_kind(const std::string& name) {
  if (name == "lstm") return ControllerKind::Lstm;
  if (name == "feedforward") return ControllerKind::FeedForward;
  fail("config", "controller must be 'lstm' or 'feedforward', got '{}'", name);
}

const char* controller_kind_name(ControllerKind k) { return k == ControllerKind::Lstm ? "lstm" : "feedforward"; }

Tensor clip_if_enabled(const Tensor& x, double clip) { return clip > 0 ? clamp(x, -clip, clip) : x; }

RecurrentController::RecurrentController(const RecurrentControllerConfig& c) : config_(c) {
  SDNC_CHECK(c.input_size > 0 && c.hidden_size > 0, "recurrent_controller", "sizes must be positive: input {}, hidden {}",
             c.input_size, c.hidden_size);
  const int64_t h = c.hidden_size, gates = c.kind == ControllerKind::Lstm ? 4 * h : h;
  weight_ih = register_parameter("weight_ih", Tensor::zeros({gates, c.input_size}));
  if (c.kind == ControllerKind::Lstm) weight_hh = register_parameter("weight_hh", Tensor::zeros({gates, h}));
  bias = register_parameter("bias", Tensor::zeros({gates}));
}

void RecurrentController::init(Generator& g) {
  int64_t fan_in = config_.input_size + (config_.kind == ControllerKind::Lstm ? config_.hidden_size : 0);
  double stddev = 1.0 / std::sqrt(static_cast<double>(fan_in));
  g.fill_truncated_normal(weight_ih, 0.0, stddev);
  if (weight_hh.defined()) g.fill_truncated_normal(weight_hh, 0.0, stddev);
  g.fill_truncated_normal(bias, 0.0, stddev);
}

ControllerState RecurrentController::zero_state(int64_t B, DType dtype) const {
  if (config_.kind != ControllerKind::Lstm) return {};
  return {Tensor::zeros({B, config_.hidden_size}, dtype), Tensor::zeros({B, config_.hidden_size}, dtype)};
}

Tensor RecurrentController::step(const Tensor& x, const ControllerState& prev, ControllerState* next) const {
  SDNC_CHECK(x.ndim() == 2 && x.size(1) == config_.input_size, "recurrent_controller", "input {} must be [B, {}]",
             shape_str(x.shape()), config_.input_size);
  const double clip = config_.clip_value;
  if (config_.kind == ControllerKind::FeedForward) {
    if (next) *next = {};
    return clip_if_enabled(tanh(linear(x, weight_ih, bias)), clip);
  }
  std::shared_ptr<SequenceWeights> sequence = prev.sequence;
  if (!sequence || !sequence->open()) sequence = SequenceWeights::make({weight_ih, weight_hh}, bias);
  std::vector<Tensor> hc = sequence ? lstm_cell(x, prev.h, prev.c, *sequence, config_.forget_bias)
                                    : lstm_cell(x, prev.h, prev.c, weight_ih, weight_hh, bias, config_.forget_bias);
  Tensor out = clip_if_enabled(hc[0], clip);
  if (next) *next = {out, clip_if_enabled(hc[1], clip), sequence};
  return out;
}

}  // namespace sdnc::controllers
