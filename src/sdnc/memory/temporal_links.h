// temporal_links.h — the DNC's temporal link matrices and precedence, one per write head
// (DNC.md A.8–A.9, DeepMind's TemporalLinkage):
//   L_h[i,j] ← (1 − w_h[i] − w_h[j])·L_h[i,j] + w_h[i]·p_h[j], then diag(L_h) = 0
//   p_h      ← (1 − Σ_i w_h[i])·p_h + w_h            (after the link: the link uses the old p)
//   forward  f_{r,h} = L_h · w^r_{t−1,r}     (f[i] = Σ_j L[i,j] w[j])
//   backward b_{r,h} = L_hᵀ · w^r_{t−1,r}
// L[i,j] ≈ "slot i was written right after slot j".
#pragma once
#include "sdnc/core/tensor.h"

namespace sdnc::memory {

// prev_link [B, H, N, N], prev_precedence [B, H, N], write_weights [B, H, N] → link [B, H, N, N].
Tensor update_link(const Tensor& prev_link, const Tensor& prev_precedence, const Tensor& write_weights);

// prev_precedence [B, H, N], write_weights [B, H, N] → precedence [B, H, N].
Tensor update_precedence(const Tensor& prev_precedence, const Tensor& write_weights);

// link [B, H, N, N], prev_read_weights [B, R, N] → [B, R, H, N] (forward: L·w; backward: Lᵀ·w).
Tensor directional_weights(const Tensor& link, const Tensor& prev_read_weights, bool forward);

}  // namespace sdnc::memory
