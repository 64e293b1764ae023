// attention.h — content-addressed reading, fused: the read heads of an sDNC (= multi-head
// attention). Each of H heads scores its query against every memory slot's key, turns the
// scores into read weights with a softmax over the slots, and reads the weighted sum of the
// slots' values.
//
//   w[b,h,t,:] = softmax_j( scale · q[b,h,t,:]·k[b,h,j,:] )   over the visible slots j
//   out[b,h,t,:] = Σ_j w[b,h,t,j] · v[b,h,j,:]
//
// Visibility: `causal` hides slot j from query t when j > t + (S − T) (queries aligned to
// the last S slots, so one query over a memory of S slots sees all of them — the
// recurrent/KV-cache form); key_padding_mask [B, S] (nonzero = padding) hides slots of
// padded positions. A query that sees no slot reads zeros (PyTorch gives NaN there).
//
// The fused backward uses the saved read weights: dV = wᵀ·dO, dw = dO·Vᵀ,
// ds = w ∘ (dw − rowsum(dO ∘ O)), dQ = scale·ds·K, dK = scale·dsᵀ·Q.
#pragma once
#include "sdnc/core/tensor.h"

namespace sdnc {

struct AttentionOptions {
  bool causal = false;
  double scale = 0.0;  // 0 → 1/sqrt(Dh)
};

// q [B, H, T, Dh], k [B, H, S, Dh], v [B, H, S, Dv] → out [B, H, T, Dv].
// key_padding_mask [B, S] (any dtype; nonzero = hidden) may be undefined.
// If weights_out is given it receives the read weights [B, H, T, S] (no gradient).
Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_padding_mask = Tensor(),
                 const AttentionOptions& options = {}, Tensor* weights_out = nullptr);

// The same computation from simple ops (matmul, softmax, ...): the oracle for the fused op.
Tensor attention_reference(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_padding_mask,
                           const AttentionOptions& options);

}  // namespace sdnc
