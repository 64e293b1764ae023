// cosine_weights.h — the DNC's content weighting C(M, k, β̂) (DNC.md A.3), DeepMind's
// CosineWeights exactly:
//   ‖x‖  = √(Σ x² + 1e-6)                    (epsilon inside the root: ‖0‖ = 1e-3)
//   D[i] = (k·M[i]) / (‖k‖·‖M[i]‖ + 1e-6)    (second epsilon outside)
//   C    = softmax_i(D[i] · s(β̂)),  s = softplus (reference) or oneplus = 1 + softplus (paper)
// All-zero memory gives D = 0 and an exactly uniform C = 1/N, with finite gradients.
#pragma once
#include <string>

#include "sdnc/core/tensor.h"

namespace sdnc::memory {

enum class Strength { Softplus, Oneplus };

Strength parse_strength(const std::string& name);  // "softplus" | "oneplus"
const char* strength_name(Strength s);

inline constexpr double kDncEpsilon = 1e-6;  // DeepMind's _EPSILON

// memory [B, N, W], keys [B, K, W], strengths [B, K] (raw β̂, before s) → weights [B, K, N].
Tensor cosine_weights(const Tensor& memory, const Tensor& keys, const Tensor& strengths,
                      Strength strength = Strength::Softplus);

}  // namespace sdnc::memory
