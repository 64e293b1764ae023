// dnc.h — the Differentiable Neural Computer exactly as DeepMind's reference computes it
// (deepmind/dnc dnc.py; /work/shared/DNC.md section A), built from the memory-machine parts
// in memory/ (word memory, cosine weights, usage, allocation, temporal links, access) and a
// recurrent controller.
//
// One step t (B batch, X input, Y output, h controller, N slots, W word, R reads, H writes):
//   χ_t = [x_t ; flatten(r_{t−1})]          (reads flattened head-major)
//   o   = controller(χ_t)                  (clipped to ±clip_value)
//   r_t = access(o)                        (write, then read)
//   y_t = clip(W_out·[o ; flatten(r_t)] + b_out)
// The state starts at zero for every sequence.
//
// Checkpoint (safetensors, PyTorch Linear layout [out, in]):
//   controller.weight_ih [4h, X+R·W], controller.weight_hh [4h, h], controller.bias [4h]
//     (feedforward controller: weight_ih [h, X+R·W], bias [h])
//   access.{write_vectors, erase_vectors, free_gate, allocation_gate, write_gate, read_mode,
//           write_keys, write_strengths, read_keys, read_strengths}.{weight, bias}
//   output.weight [Y, h+R·W], output.bias [Y]
// config.json: docs/dnc.md.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "sdnc/controllers/recurrent_controller.h"
#include "sdnc/memory/dnc_access.h"
#include "sdnc/nn/layers.h"

namespace sdnc::models {

struct DncConfig {
  int64_t input_size = 0, output_size = 0;  // X, Y (required)
  int64_t hidden_size = 64, memory_size = 16, word_size = 16, num_read_heads = 4, num_write_heads = 1;
  double clip_value = 20.0;  // ≤ 0 (or null in JSON): no clipping
  controllers::ControllerKind controller = controllers::ControllerKind::Lstm;
  memory::Strength strength = memory::Strength::Softplus;

  static DncConfig from_json(const nlohmann::json& j, const std::string& where);
  nlohmann::json to_json() const;
};

// The whole recurrent state (all zeros at the start of a sequence).
struct DncState {
  memory::AccessState access;             // memory, read/write weights, link, precedence, usage
  Tensor read_words;                      // [B, R, W] r_{t−1}
  controllers::ControllerState controller;  // LSTM h, c [B, h]
};

// Per-step states, stacked over time (recorded when asked).
struct DncTrace {
  Tensor usage;          // [B, T, N]       u_t, as step t computes it before its write
  Tensor write_weights;  // [B, T, H, N]
  Tensor read_weights;   // [B, T, R, N]
  Tensor read_words;     // [B, T, R, W]
  Tensor memory;         // [B, T, N, W]    after step t's write
  Tensor link;           // [B, T, H, N, N]
  Tensor precedence;     // [B, T, H, N]
};

class DncModel : public nn::Module {
 public:
  explicit DncModel(const DncConfig& config);
  const DncConfig& config() const { return config_; }

  // The reference's initialisation (truncated normal 1/√fan_in; Linear biases 0).
  void init(Generator& g);

  DncState zero_state(int64_t batch, DType dtype = DType::F32) const;

  // One step: x [B, X] → logits [B, Y]; *state advances.
  Tensor step(const Tensor& x, DncState& state) const;

  // inputs [B, T, X] → logits [B, T, Y], from the zero state; with trace, per-step states.
  Tensor forward(const Tensor& inputs, DncTrace* trace = nullptr) const;

  // Execution switch (not architecture): the fused access step (default) or the composed,
  // op-by-op reference path. Same results; the tests compare them.
  void set_fused(bool on) { access->set_fused(on); }
  bool fused() const { return access->config().fused; }

  // Recomputation for long training sequences: with k > 0, forward() (when recording
  // gradients, without a trace, and with inputs that need no gradient) runs the steps in
  // segments of k under no-grad and records one node per segment that keeps only the state
  // at the segment's start; its backward reruns the segment's forward with gradients and
  // backpropagates through it. Memory: O(T/k) states plus one segment's graph (instead of
  // every step's link and memory); cost: one more forward. Same gradients. 0: off (default).
  // The segment nodes call back into this model: it must outlive their backward.
  void set_checkpoint_every(int64_t k) { checkpoint_every_ = k > 0 ? k : 0; }
  int64_t checkpoint_every() const { return checkpoint_every_; }

  std::shared_ptr<controllers::RecurrentController> controller;
  std::shared_ptr<memory::DncAccess> access;
  std::shared_ptr<nn::Linear> output;

 private:
  // One step without the output layer: x [B, X] → [o ; r_t] [B, h + R·W]; *state advances.
  Tensor step_features(const Tensor& x, DncState& state, const memory::DncAccess::FusedInterface* fi) const;
  Tensor forward_checkpointed(const Tensor& inputs) const;

  DncConfig config_;
  int64_t checkpoint_every_ = 0;
};

}  // namespace sdnc::models
