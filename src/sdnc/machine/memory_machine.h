// memory_machine.h — the one memory machine every model of sdnc is a setting of: an input
// map, a stack of L machine layers (machine_stack.h; each with its own memory, each feeding
// the next) and a head. Its dials (machine_config.h) choose the parts; the DNC and the
// Transformer are two presets, every other corner a hybrid (docs/machine.md).
//
//   stateless: x_t = W_in·inputs_t + b_in + pos(t);  L layers;  logits = W_out·LN(x_t^L) + b_out
//   recurrent: x_t = inputs_t;  L layers;  logits = clip(W_out·[o ; r_t]^L + b_out)
//   token input (input_vocab V_in > 0): W_in·inputs_t + b_in becomes E[token_t], E [V_in, D]
//   ("input.weight"), for either controller; inputs are then I64 [B, T] (step: [B]).
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

#include "sdnc/machine/machine_stack.h"

namespace sdnc::machine {

class MemoryMachine : public nn::Module {
 public:
  explicit MemoryMachine(const MachineConfig& config);
  const MachineConfig& config() const { return c_; }

  void init(Generator& g);

  using State = MachineStack::State;
  State initial_state(int64_t batch, DType dtype = DType::F32) const;

  // One step: x [B, X] (token input: I64 [B]) → logits [B, Y]; *state advances one position.
  Tensor step(const Tensor& x, State& state) const;

  // inputs [B, T, X] (token input: I64 [B, T]) → logits [B, T, Y], from the initial state.
  // Parallel where the dials allow it (otherwise "[machine] ... has no parallel form: <why>").
  // Trace: machine_stack.h's, per layer prefix ("layers.{l}." — "" for the dnc preset).
  // padding [B, T] (nonzero: never read) for a bidirectional machine (causal=false).
  // The causal recurrent form without gradients (inference) runs the head once per chunk of
  // kInferenceChunk steps and keeps only the logits: its memory is flat in T.
  Tensor forward(const Tensor& inputs, models::Form form, models::Trace* trace = nullptr,
                 const Tensor& padding = Tensor()) const;

  // Execution switches (not architecture): the fused access node where
  // MachineConfig::has_fused_access (default on; off: the composed parts, its oracle), and
  // recomputation in segments of k
  // steps for training the recurrent form (0: off; the model must outlive the backward).
  void set_fused(bool on) { fused_ = on; }
  bool fused() const { return fused_; }
  void set_checkpoint_every(int64_t k) { checkpoint_every_ = k > 0 ? k : 0; }

  std::string layer_prefix(size_t l) const { return stack->layer_prefix(l); }

  std::shared_ptr<nn::Linear> input, output;
  std::shared_ptr<nn::Embedding> input_embed;  // token input: [V_in, D]
  std::shared_ptr<nn::Embedding> pos_embed;
  std::shared_ptr<MachineStack> stack;         // its parameters named as its layers' ("layers.{l}.*")
  std::shared_ptr<nn::Norm> norm;              // stateless: LayerNorm | RMSNorm

 private:
  Tensor embed(const Tensor& inputs, int64_t first) const;  // [B, n, X] | I64 [B, n] → [B, n, D or X]
  void check_inputs(const Tensor& inputs) const;            // [B, T, X] | I64 [B, T] tokens in range
  DType state_dtype(const Tensor& inputs) const;            // the inputs' (tokens: the parameters')
  Tensor head(const Tensor& features) const;                // [B, n, F] → [B, n, Y]
  std::vector<InterfaceProjection::Fused> fused_interfaces() const;
  // The recurrent loop over inputs [B, n, X] at positions state.position..: features of the
  // last layer [B, n, F]; records (optional) per layer per step.
  Tensor run_steps(const Tensor& inputs, State& state, const std::vector<InterfaceProjection::Fused>& fused,
                   std::vector<std::vector<StepRecord>>* records) const;
  Tensor forward_checkpointed(const Tensor& inputs) const;
  static constexpr int64_t kInferenceChunk = 64;
  Tensor forward_inference_chunks(const Tensor& inputs) const;  // see forward()
  MachineConfig c_;
  bool fused_ = true;
  int64_t checkpoint_every_ = 0;
};

}  // namespace sdnc::machine
