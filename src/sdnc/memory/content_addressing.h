// content_addressing.h — how a read key is compared with the keys in memory.
//
//   ScaledDot : similarity = q·k / sqrt(Dh)             (the Transformer's attention)
//   Cosine    : similarity = β_h · (q/|q|)·(k/|k|)      (the DNC's form; QK-normalised
//               attention), with a learned strength β per head.
// Both end in a softmax over the slots (read_heads.h). Cosine is applied by normalising
// the query (times β) and the key before they meet, so the same fused read serves both.
#pragma once
#include "sdnc/core/tensor.h"

namespace sdnc::memory {

enum class Similarity { ScaledDot, Cosine };

// Keys and query ready for a dot-product read, plus the scale to apply to their product.
struct AddressedKeys {
  Tensor q, k;
  double scale;
};

// q [B, H, T, Dh], k [B, H, S, Dh]; strength [H] is used by Cosine only (may be undefined
// for ScaledDot). eps keeps the norm of a zero vector finite.
AddressedKeys address(Similarity sim, const Tensor& q, const Tensor& k, const Tensor& strength, double eps = 1e-6);

// x / sqrt(Σ x² + eps) over the last dim (autograd through simple ops).
Tensor l2_normalize(const Tensor& x, double eps = 1e-6);

}  // namespace sdnc::memory
