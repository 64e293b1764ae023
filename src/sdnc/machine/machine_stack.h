// machine_stack.h — L machine layers (machine_layer.h), each with its own memory, each feeding
// the next: the part every model built from the memory machine shares. A model is its own
// input map + one MachineStack + its own head: MemoryMachine (memory_machine.h) adds a Linear
// or embedding input and a logits head; a language model adds token (and position)
// embeddings, a final norm and an (often tied) output projection.
//
// Ways of running the stack, each written once, here:
//   steps          causal, one position at a time for every layer (time-major): the recurrent
//                  form, generation with the KV cache, streaming from a caller-held State;
//   parallel       every position at once, where the dials allow it (layer-major);
//   bidirectional  causal=false in the recurrent form: per layer, every slot written one step at
//                  a time, then every position reads them all (an encoder, as a DNC would run it).
// Trace, per layer prefix p ("layers.{l}."): p+"read_weights" [B, T, R, n], "write_weights"
// [B, T, H, n], "read_words" [B, T, R, W], "memory" [B, T, n, S·W], "values", "usage" [B, T, n],
// "link" [B, T, H, n, n], "precedence" [B, T, H, n], "read_modes" [B, T, R, 1+2H] where the
// corner has them (n: the largest slot count; slots not yet written are 0). The parallel form
// traces read weights only.
// Legend: B batch, T time, n positions or slots, D model width, R read heads, W word size.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "sdnc/machine/machine_layer.h"
#include "sdnc/models/trace.h"

namespace sdnc {
struct DecodeWeightCopies;  // ops/decode_step.h
}

namespace sdnc::machine {

class MachineStack : public nn::Module {
 public:
  // input_width: what layer 0 reads (stateless: D). prefix: the layers' names, "{prefix}.{l}.*";
  // "" (only with one layer) names the layer's parameters without a prefix (the dnc preset).
  MachineStack(const MachineConfig& config, int64_t input_width, const std::string& prefix = "layers");
  const MachineConfig& config() const { return c_; }
  int64_t input_width() const { return in_; }
  int64_t output_width() const;  // the last layer's: stateless D, recurrent h + R·W
  std::string layer_prefix(size_t l) const;  // "layers.{l}." (or "")

  void init(Generator& g);  // each layer's own initialisation, in order

  struct State {
    std::vector<LayerState> layers;
    int64_t position = 0;
    // decode_step's matrices: "f32" (the parameters), or "bf16" | "int8" copies packed at the
    // state's first decode_step and kept for the rest of its generation (set before it; a new
    // state may be handed the copies of an earlier one of the same, unchanged model).
    std::string decode_weights = "f32";
    std::shared_ptr<const DecodeWeightCopies> decode_copies;
  };
  State initial_state(int64_t batch, DType dtype) const;

  // The fused DNC access of each layer when the dials are exactly the DNC's (else empty).
  std::vector<InterfaceProjection::Fused> fused_interfaces() const;

  // Time-major steps: x [B, n, in] at positions state.position.. → [B, n, out]; state advances.
  // fused: fused_interfaces() or empty (the composed parts); records (optional): per layer,
  // one StepRecord per step; padding (optional) [B, n]: positions whose slots are never read.
  // Layers with cross_reads need write_cross first.
  Tensor steps(const Tensor& x, State& state, const std::vector<InterfaceProjection::Fused>& fused,
               std::vector<std::vector<StepRecord>>* records = nullptr, const Tensor& padding = Tensor()) const;

  // Feeds x [B, n, in] at positions state.position.. → [B, n, out], state advances: the chunk
  // form where the dials have one (config().has_chunk_form(): per layer one parallel pass that
  // appends the n slots and reads the memory so far — a prompt's prefill), else steps(). The
  // same numbers as steps() (to rounding).
  Tensor extend(const Tensor& x, State& state) const;

  // The single-token step of generation as one op (ops/decode_step.h): x [1, D] at
  // state.position → the last layer's output [1, D], or logits [1, V] = LN(·)·weightᵀ when
  // head.weight [V, D] is given; each layer's slot is written in place; state advances.
  // has_decode_step tells whether it applies: no autograd, F32, one sequence, and the dials
  // of a pre-LN Transformer layer (stateless, causal, unbounded append, dot, content reads,
  // separate keys and values, one write head, LayerNorm, no rope/alibi, relu | gelu |
  // gelu_tanh); elsewhere steps() is the way.
  struct Head {
    Tensor norm_weight, norm_bias, weight;
  };
  bool has_decode_step(const Tensor& x) const;
  Tensor decode_step(const Tensor& x, State& state, const Head& head = {}) const;

  // cross_reads: every layer writes its cross memory once from the other machine's output.
  void write_cross(const CrossSource& source, State& state) const;

  // x [B, T, in] → [B, T, out] from the initial state, in the given form (parallel where the
  // dials allow it; recurrent: steps, or the bidirectional steps when causal=false). padding
  // [B, T] (nonzero: never read) may be undefined. cross: the memory layers with cross_reads
  // read (trace: p+"cross_read_weights" [B, T, R, S]).
  Tensor forward(const Tensor& x, models::Form form, models::Trace* trace = nullptr, const Tensor& padding = Tensor(),
                 bool fused = true, const CrossSource* cross = nullptr) const;

  // The records of steps() as trace tensors [B, T, ...] (see the header comment).
  void put_trace(const std::vector<std::vector<StepRecord>>& records, models::Trace& trace) const;

  std::vector<std::shared_ptr<MachineLayer>> layers;

 private:
  // A state's layers from the start (its decode_weights and copies kept).
  void start(State& state, int64_t B, DType dtype) const;

  MachineConfig c_;
  int64_t in_;
  std::string prefix_;
};

}  // namespace sdnc::machine
