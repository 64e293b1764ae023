// memory_machine.h — the one memory machine every model of sdnc is a setting of: an input
// map, a stack of L machine layers (machine_layer.h; each with its own memory, each feeding
// the next) and a head. Its dials (machine_config.h) choose the parts; the DNC and the
// Transformer are two presets, every other corner a hybrid (docs/machine.md).
//
//   stateless: x_t = W_in·inputs_t + b_in + pos(t);  L layers;  logits = W_out·LN(x_t^L) + b_out
//   recurrent: x_t = inputs_t;  L layers;  logits = clip(W_out·[o ; r_t]^L + b_out)
//
// Ways of running the same weights, each written once, here:
//   recurrent     (always) one step at a time: write a slot, read, for every layer;
//   parallel      every position at once, where the dials allow it (stateless controller,
//                 unbounded append memory, content reads) — the Transformer way;
//   checkpointed  the recurrent form in segments of k steps that keep only their start
//                 state, recomputed in the backward (set_checkpoint_every);
//   traced        the recurrent or parallel form, recording every step's parts.
//   step          one step of a caller-held State (generation, streaming).
//
// Parameter names: stateless — input, [pos_embed], layers.{l}.*, norm, output (the "sdnc"
// preset's names); recurrent — layers.{l}.*, output; the "dnc" preset (one layer) drops the
// "layers.0." prefix, so its names are DncModel's (controller.*, access.*, output.*).
// Legend: B batch, T time, X input width, Y output width, D model width, L layers.
#pragma once
#include <memory>
#include <vector>

#include "sdnc/machine/machine_layer.h"
#include "sdnc/models/trace.h"

namespace sdnc::machine {

class MemoryMachine : public nn::Module {
 public:
  explicit MemoryMachine(const MachineConfig& config);
  const MachineConfig& config() const { return c_; }

  void init(Generator& g);

  struct State {
    std::vector<LayerState> layers;
    int64_t position = 0;
  };
  State initial_state(int64_t batch, DType dtype = DType::F32) const;

  // One step: x [B, X] → logits [B, Y]; *state advances one position.
  Tensor step(const Tensor& x, State& state) const;

  // inputs [B, T, X] → logits [B, T, Y], from the initial state. Parallel where the dials
  // allow it (otherwise "[machine] ... has no parallel form: <why>"). Trace, per layer
  // prefix p ("layers.{l}." — "" for the dnc preset): p+"read_weights" [B, T, R, n],
  // "write_weights" [B, T, H, n], "read_words" [B, T, R, W], "memory" [B, T, n, S·W]
  // (the keys / words), "values" (separate), "usage" [B, T, n], "link" [B, T, H, n, n],
  // "precedence" [B, T, H, n], "read_modes" [B, T, R, 1+2H] where the corner has them; n is
  // the largest slot count (slots not yet written are 0). The parallel form traces read weights.
  Tensor forward(const Tensor& inputs, models::Form form, models::Trace* trace = nullptr) const;

  // Execution switches (not architecture): the fused access node where
  // MachineConfig::has_fused_access (default on; off: the composed parts, its oracle), and
  // recomputation in segments of k
  // steps for training the recurrent form (0: off; the model must outlive the backward).
  void set_fused(bool on) { fused_ = on; }
  bool fused() const { return fused_; }
  void set_checkpoint_every(int64_t k) { checkpoint_every_ = k > 0 ? k : 0; }

  std::string layer_prefix(size_t l) const;

  std::shared_ptr<nn::Linear> input, output;
  std::shared_ptr<nn::Embedding> pos_embed;
  std::vector<std::shared_ptr<MachineLayer>> layers;
  std::shared_ptr<nn::LayerNorm> norm;

 private:
  Tensor embed(const Tensor& inputs, int64_t first) const;  // [B, n, X] → [B, n, D or X]
  Tensor head(const Tensor& features) const;                // [B, n, F] → [B, n, Y]
  std::vector<InterfaceProjection::Fused> fused_interfaces() const;
  // The recurrent loop over inputs [B, n, X] at positions state.position..: features of the
  // last layer [B, n, F]; records (optional) per layer per step.
  Tensor run_steps(const Tensor& inputs, State& state, const std::vector<InterfaceProjection::Fused>& fused,
                   std::vector<std::vector<StepRecord>>* records) const;
  Tensor forward_recurrent(const Tensor& inputs, models::Trace* trace) const;
  Tensor forward_checkpointed(const Tensor& inputs) const;
  MachineConfig c_;
  bool fused_ = true;
  int64_t checkpoint_every_ = 0;
};

}  // namespace sdnc::machine
