// allocation.h — the DNC's allocation weighting (DNC.md A.5, DeepMind's
// Freeness.write_allocation_weights and _allocation), sequentially over H write heads.
//
// For one head, from usage ū:
//   ũ = ε + (1 − ε)·ū                 (ε = 1e-6: keeps the cumulative product off 0)
//   n = 1 − ũ                         nonusage
//   φ = argsort(n) descending, STABLE (ties → lower slot index first, as tf.nn.top_k);
//       the keys are computed in float32 exactly as the reference does
//       (fp32(1) − (fp32(ε) + fp32(1 − ε)·fp32(ū))), whatever the tensor's dtype, so the
//       same inputs allocate the same slots in F32 and F64.
//   s_j = 1 − n_{φ_j};  a_sorted[j] = n_{φ_j} · Π_{k<j} s_k   (exclusive cumulative product)
//   a[φ_j] = a_sorted[j]              (unsort: gather with the inverse permutation)
// The permutation is a constant (no gradient); gradients flow through the sorted values.
// Between heads the simulated usage advances with the UNCLAMPED ū:
//   ū ← ū + (1 − ū) ∘ g_h ∘ a_h,  g_h = allocation gate · write gate.
#pragma once
#include <vector>

#include "sdnc/core/tensor.h"

namespace sdnc::memory {

// The allocation order φ for each batch row: usage [B, N] → I64 [B, N], row b listing slot
// indices from freest to most used (the constant permutation; no autograd).
Tensor allocation_order(const Tensor& usage);

// One head: usage [B, N] → allocation weights [B, N].
Tensor allocation_weights(const Tensor& usage);

// H heads in turn: usage [B, N], write_gates [B, H] (allocation gate × write gate)
// → allocation weights [B, H, N].
Tensor write_allocation_weights(const Tensor& usage, const Tensor& write_gates);

}  // namespace sdnc::memory
