// word_memory.h — the DNC's N-slot word memory: each slot holds one word of W numbers that
// is both compared with keys (content addressing) and read out. Writing erases, then adds
// (DNC.md A.7); reading is a weighted sum of slots (A.10). Shapes use the letter legend:
// B batch, N slots, W word size, H write heads, R read heads.
//
// Composed from autograd ops today; each function is one addressing piece whose body can
// later be swapped for a fused kernel with the same signature.
#pragma once
#include "sdnc/core/tensor.h"

namespace sdnc::memory {

// Erase, then add, over H write heads:
//   M' = M ∘ Π_h (1 − w_h e_hᵀ) + Σ_h w_h v_hᵀ
//   memory        [B, N, W]   M_{t−1}
//   write_weights [B, H, N]   w_h
//   erase         [B, H, W]   e_h (in [0, 1])
//   values        [B, H, W]   v_h
//   → [B, N, W]
// The product over heads is division-free (ops/cumprod.h prod), so a factor of exactly 0
// (w·e = 1) gives finite gradients.
Tensor erase_and_write(const Tensor& memory, const Tensor& write_weights, const Tensor& erase, const Tensor& values);

// Read words r_r = Mᵀ w_r: memory [B, N, W], read_weights [B, R, N] → [B, R, W].
Tensor read_words(const Tensor& memory, const Tensor& read_weights);

}  // namespace sdnc::memory
