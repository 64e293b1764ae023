// usage.h — the DNC's freeness: how much each slot is in use (DNC.md A.4, DeepMind's
// Freeness._build):
//   ŵ  = 1 − Π_h (1 − w_{t−1,h})         previous write weights, STOP-GRADIENT (detached)
//   u′ = u_{t−1} + (1 − u_{t−1}) ∘ ŵ      the write increase first
//   ψ  = Π_r (1 − f_r · w^r_{t−1,r})      current free gates, previous read weights
//   u  = u′ ∘ ψ                           then the freeing
#pragma once
#include "sdnc/core/tensor.h"

namespace sdnc::memory {

//   prev_usage         [B, N]
//   prev_write_weights [B, H, N]  (no gradient flows into them)
//   free_gate          [B, R]
//   prev_read_weights  [B, R, N]
//   → usage [B, N]
// stop_gradient = false lets gradients flow into prev_write_weights too (pytorch-dnc's choice,
// and the true derivative that finite differences see).
Tensor update_usage(const Tensor& prev_usage, const Tensor& prev_write_weights, const Tensor& free_gate,
                    const Tensor& prev_read_weights, bool stop_gradient = true);

}  // namespace sdnc::memory
