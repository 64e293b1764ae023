// dnc_access.h — the DNC's memory access module (DeepMind's access.MemoryAccess): the
// interface linears from the controller output, then one write and one read of the N-slot
// word memory, in the order of DNC.md "Order of one step":
//   interface → usage → write content (old M) → allocation → write weights → erase/add
//   → link → precedence → read content (new M) → forward/backward (new L, old wʳ)
//   → read weights → read words.
// Letter legend: B batch, N slots, W word size, R read heads, H write heads, h controller size.
#pragma once
#include <memory>

#include "sdnc/memory/cosine_weights.h"
#include "sdnc/nn/layers.h"

namespace sdnc::memory {

struct DncAccessConfig {
  int64_t input_size = 0;  // h: the controller output width
  int64_t memory_size = 16, word_size = 16, num_reads = 4, num_writes = 1;  // N, W, R, H
  Strength strength = Strength::Softplus;
  // Execution, not architecture (not in config.json): true runs one step's whole access as
  // the fused op ops/dnc_addressing (hand-written backward); false composes it from one
  // autograd op per piece (the reference decomposition the fused op is tested against).
  bool fused = true;
};

// The access state carried from step to step (all zero initially, DNC.md A.0).
struct AccessState {
  Tensor memory;         // [B, N, W]
  Tensor read_weights;   // [B, R, N]
  Tensor write_weights;  // [B, H, N]
  Tensor link;           // [B, H, N, N]
  Tensor precedence;     // [B, H, N]
  Tensor usage;          // [B, N]

  static AccessState zeros(const DncAccessConfig& c, int64_t batch, DType dtype = DType::F32);
};

// The interface, after its nonlinearities (DNC.md A.2).
struct Interface {
  Tensor write_vectors;     // [B, H, W] identity
  Tensor erase_vectors;     // [B, H, W] σ
  Tensor free_gate;         // [B, R]    σ
  Tensor allocation_gate;   // [B, H]    σ
  Tensor write_gate;        // [B, H]    σ
  Tensor read_mode;         // [B, R, 1+2H] softmax per row: [backward₁..H, forward₁..H, content]
  Tensor write_keys;        // [B, H, W] identity
  Tensor write_strengths;   // [B, H]    raw (softplus/oneplus applied in cosine_weights)
  Tensor read_keys;         // [B, R, W] identity
  Tensor read_strengths;    // [B, R]    raw
};

class DncAccess : public nn::Module {
 public:
  explicit DncAccess(const DncAccessConfig& config);
  const DncAccessConfig& config() const { return config_; }

  // Truncated normal std 1/√h (±2σ) weights, zero biases (Sonnet's snt.Linear).
  void init(Generator& g);

  // controller output o [B, h] → interface.
  Interface interface(const Tensor& o) const;

  // The ten interface linears as one: weight [I, h], bias [I] (I = dnc_interface_width),
  // concatenated in creation order by autograd ops, so gradients reach each Linear's
  // parameters. Build it once per sequence and pass it to step() to save the copies.
  struct FusedInterface {
    Tensor weight, bias;
  };
  FusedInterface fused_interface() const;

  // One step: o [B, h], previous state → read words [B, R, W]; *next receives the new state.
  // Fused or composed as config().fused says; fi (fused only) is fused_interface(), built
  // here when null.
  Tensor step(const Tensor& o, const AccessState& prev, AccessState* next, const FusedInterface* fi = nullptr) const;
  // The two paths, whatever config().fused says.
  Tensor step_fused(const Tensor& o, const AccessState& prev, AccessState* next,
                    const FusedInterface* fi = nullptr) const;
  Tensor step_composed(const Tensor& o, const AccessState& prev, AccessState* next) const;

  void set_fused(bool on) { config_.fused = on; }

  // One linear per interface part, named as the reference (registration = creation order).
  std::shared_ptr<nn::Linear> write_vectors, erase_vectors, free_gate, allocation_gate, write_gate, read_mode,
      write_keys, write_strengths, read_keys, read_strengths;

 private:
  DncAccessConfig config_;
};

}  // namespace sdnc::memory
