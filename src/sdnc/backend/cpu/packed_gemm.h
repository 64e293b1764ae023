// backend/cpu/packed_gemm.h — a few rows (a sentence, a prompt: M ≤ ops/matmul.h's
// kPackedRows = 128) times a frozen F32 weight packed once into 16-column panels, for
// inference (no autograd).
//
// At M ≈ 16 a GEMM library repacks the weight at every call and reads it from memory more than
// once; here the weight is packed once (pack_weight) and each call streams it exactly once:
// per panel of 16 outputs, blocks of up to 16 rows keep their 16 × 16 sums in registers
// (one AVX-512 register per row), and each weight vector loaded is used by every row of the
// block. Every output element is one chain of FMAs over k = 0..K−1 in order, whatever the
// thread count or the row blocking (so the result does not depend on either).
//
// Layout: W [N, K] (Linear: out × in) → panels p = 0..⌈N/16⌉−1, panel p = [K, 16] holding
// W[16p + j, k] at k·16 + j (columns past N are 0).
//
// Letters: M rows, K inputs, N outputs.
#pragma once
#include <cstdint>
#include <memory>

namespace sdnc::cpu {

struct PackedWeight {
  static constexpr int64_t kPanel = 16;  // output columns per panel (one AVX-512 register)
  int64_t K = 0, N = 0;
  std::shared_ptr<void> panels;  // [⌈N/16⌉, K, 16] floats, 64-byte aligned (core/weight_arena.h)
  const float* data() const { return static_cast<const float*>(panels.get()); }
};

// Whether this CPU runs the packed kernel (AVX-512F, checked with cpuid at run time). Without
// it there is no packed path: callers keep their GEMM.
bool packed_gemm_available();

// W [N, K] row-major (row stride K) → its panels.
PackedWeight pack_weight(const float* W, int64_t N, int64_t K);

// y[m, o] = Σ_k x[m, k] · W[o, k] + bias[o]  for m < M, 0 ≤ o < N; x [M, K] with row stride
// ldx, y [M, N] with row stride ldy, bias [N] or null. Blocks of panels are shared with the
// process's worker team (core/worker_team.h, sdnc::num_threads() − 1 helpers) when the product
// holds ≥ 2^20 multiply-adds. Needs packed_gemm_available().
void packed_gemm(int64_t M, const float* x, int64_t ldx, const PackedWeight& W, const float* bias, float* y,
                 int64_t ldy);

}  // namespace sdnc::cpu
