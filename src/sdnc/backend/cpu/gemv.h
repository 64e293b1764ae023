// backend/cpu/gemv.h — a few rows times a weight matrix: the products of one decoding step
// (M = B rows, one token per sequence), F32, for inference (no autograd).
//
// At M ≤ 8 a GEMM library spends more time packing and dispatching than multiplying, and
// the work is bound by reading the weights: these kernels read each weight once per call,
// use it for all M rows, and stream the matrix row by row. They are serial over a range of
// output columns [o0, o1): a caller's parallel region splits the columns between its
// threads. Every output element is summed in a fixed order, whatever the split.
//
// Letters: M rows (= B), K inputs, N outputs.
#pragma once
#include <cstdint>

namespace sdnc::cpu {

// What happens to s = x·W + bias before it is stored in y.
enum class RowEpilogue {
  Store,       // y = s
  Accumulate,  // y += s (a residual add)
  Relu,        // y = max(s, 0)
  Gelu,        // y = GELU(s) (erf form)
  GeluTanh,    // y = GELU(s) (tanh approximation, GPT-2's gelu_new)
};

// y[0, n) ← epilogue(s[0, n) + bias[0, n)) (bias may be null): the end of every row product.
void finish_row(RowEpilogue epilogue, const float* s, const float* bias, float* y, int64_t n);

// Rows these kernels are made for (more are done in groups of this many; use gemm() there).
constexpr int64_t kGemvMaxRows = 8;

// Conv1D layout, W [K, N] (in × out, row-major, row stride N):
//   y[m, o] ← epilogue(Σ_i x[m, i] · W[i, o] + bias[o])   for m < M, o0 ≤ o < o1.
// x [M, K] with row stride ldx; y [M, ·] with row stride ldy; bias [N] or null.
void rows_times_weight(int64_t M, int64_t K, int64_t N, const float* x, int64_t ldx, const float* W,
                       const float* bias, float* y, int64_t ldy, int64_t o0, int64_t o1, RowEpilogue epilogue);

// Linear layout, W [N, K] (out × in, row-major, row stride K):
//   y[m, o] ← epilogue(Σ_i x[m, i] · W[o, i] + bias[o])   for m < M, o0 ≤ o < o1.
void rows_times_weight_t(int64_t M, int64_t K, const float* x, int64_t ldx, const float* W, const float* bias,
                         float* y, int64_t ldy, int64_t o0, int64_t o1, RowEpilogue epilogue);

// The first column of a thread's share when [0, N) is split into `parts` ranges whose
// boundaries fall on multiples of 16 floats (a 64-byte line): part p is [split(p), split(p+1)).
int64_t column_split(int64_t N, int64_t parts, int64_t p);

}  // namespace sdnc::cpu
