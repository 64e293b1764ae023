// read_heads.h — R read heads reading the memory after the step's write (DNC.md A.9–A.10):
//
//   content   c_r = content_weights(M_t, q_r, β_r)              (addressing.h; head r's slice)
//   links     f_r = L_t · w^r_{t−1}, b_r = L_tᵀ · w^r_{t−1}        per write head
//             w^r_t = π_r[content]·c_r + Σ_h π_r[fwd_h]·f_rh + Σ_h π_r[bwd_h]·b_rh
//   words     r_r = Σ_j w^r_t[j] · V_j[slice of r]
//
// In an unbounded append memory the link matrix is exactly the shift (L[i, j] = 1 iff
// i = j + 1 ≤ t): forward reads are w^r_{t−1} moved one slot on, backward reads one slot
// back — the induction-head primitive — computed as such, without an n×n matrix.
// Legend: B batch, n slots, R read heads, H write heads, S slices, W word size.
#pragma once
#include "sdnc/machine/interface.h"
#include "sdnc/machine/memory_state.h"

namespace sdnc::machine {

// x: the step's interface; prev: the state before the step (its read weights);
// next: after write_step (memory, link). Sets next.read_weights [B, R, n]; returns the read
// words [B, R, W]. bias [1, R, n] (ALiBi) is added to the content scores (may be undefined).
Tensor read_step(const MachineConfig& config, const Interface& x, const MemoryState& prev, MemoryState& next,
                 const Tensor& bias = Tensor());

// The shift reads of an append memory: prev_read_weights [B, R, n − 1] (undefined at the
// first step) → forward and backward weights [B, R, n].
std::pair<Tensor, Tensor> shift_directional_weights(const Tensor& prev_read_weights, int64_t B, int64_t R, int64_t n,
                                                    DType dtype);

}  // namespace sdnc::machine
