// interface.h — the interface vector: the controller output's projection into the parts the
// dials need, after their nonlinearities (DNC.md A.2). Which parts exist:
//
//   part             shape (per position)  when                              nonlinearity
//   write_values     [H, S·W]              always (the word / the value)     identity
//   erase            [H, S·W]              write=allocate                    σ
//   free_gates       [R]                   allocate, or bounded append       σ
//   allocation_gate  [H]                   allocate                          σ
//   write_gate       [H]                   allocate                          σ
//   read_modes       [R, 1+2H]             read_modes=links                  softmax per head
//   write_keys       [H, S·W]              key_value=separate, or allocate   identity
//   write_strengths  [H]                   allocate and cosine               raw (strength in addressing)
//   read_keys        [R, W]                always (the query)                identity
//   read_strengths   [R]                   similarity=cosine                 raw
//
// Parameters, in DeepMind's creation order, one Linear per part named as the reference
// (write_vectors, erase_vectors, free_gate, allocation_gate, write_gate, read_mode,
// write_keys, write_strengths, read_keys, read_strengths). For a stateless controller the
// query, the write key and the write value are the rows of its fused projection
// (self_attn.in_proj_weight: [R·W ; H·S·W ; H·S·W], a Transformer's Q, K, V) instead.
// Legend: B batch, n positions, R read heads, H write heads, S slices, W word size.
#pragma once
#include <memory>

#include "sdnc/machine/machine_config.h"
#include "sdnc/nn/layers.h"
#include "sdnc/ops/sequence_weights.h"

namespace sdnc::machine {

struct Interface {  // every part [B, n, ...] (n = 1 in the recurrent form); undefined when absent
  Tensor write_values;     // [B, n, H, S·W]
  Tensor erase;            // [B, n, H, S·W]
  Tensor free_gates;       // [B, n, R]
  Tensor allocation_gate;  // [B, n, H]
  Tensor write_gate;       // [B, n, H]
  Tensor read_modes;       // [B, n, R, 1+2H]  [backward_1..H, forward_1..H, content]
  Tensor write_keys;       // [B, n, H, S·W]
  Tensor write_strengths;  // [B, n, H]
  Tensor read_keys;        // [B, n, R, W]
  Tensor read_strengths;   // [B, n, R]
};

// The parts as one step's values: [B, 1, ...] → [B, ...] (views).
Interface at_step(const Interface& x);

class InterfaceProjection : public nn::Module {
 public:
  // in: width of the controller output it reads. qkv (stateless controllers): the fused
  // projection whose rows are [read keys ; write keys (if any) ; write values].
  InterfaceProjection(const MachineConfig& config, int64_t in, std::shared_ptr<nn::Linear> qkv = nullptr);

  // o [B, n, in] → the parts.
  Interface project(const Tensor& o) const;

  // The raw interface in DeepMind's layout (backend/cpu/dnc_addressing.h, the parts these
  // dials have) as one weight [I, in] and bias [I], built by autograd ops from the parts
  // (gradients reach them); only for write=allocate. With gradients, `sequence` holds them
  // for the steps of one run: their weight gradient is one GEMM over all the steps
  // (ops/sequence_weights.h).
  struct Fused {
    Tensor weight, bias;
    std::shared_ptr<SequenceWeights> sequence;  // null without gradients
    // One step's raw interface: a [B, in] → [B, I] = a·weightᵀ + bias.
    Tensor project(const Tensor& a) const;
  };
  Fused fused() const;

  // Sonnet's initialisation of the own linears: truncated normal std 1/√in, zero bias.
  void init_truncated(Generator& g);
  // PyTorch's default for the own linears: U(±1/√in).
  void init_uniform(Generator& g);

  static int64_t qkv_width(const MachineConfig& c);  // rows of the fused Q/K/V projection

 private:
  struct Part {  // rows [begin, end) of `linear`
    std::shared_ptr<nn::Linear> linear;
    int64_t begin = 0, end = 0;
    bool defined() const { return linear != nullptr; }
  };
  Part own(const char* name, int64_t width);
  MachineConfig c_;
  int64_t in_;
  std::vector<std::shared_ptr<nn::Linear>> own_;
  Part write_values_, erase_, free_gates_, allocation_gate_, write_gate_, read_modes_, write_keys_, write_strengths_,
      read_keys_, read_strengths_;
};

}  // namespace sdnc::machine
