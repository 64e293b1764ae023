// decode_step.h — one new token through a stack of stateless pre-LN machine layers, F32 (the
// weights F32, BF16 or int8), one sequence: the single-token step of generation, on preallocated buffers.
//
// A decoding step multiplies one row by every weight of the model once: it is bound by reading
// the weights, and in the general layer code the time went to everything around the products
// (a tensor per op, splits and copies of q/k/v, the GEMM library's dispatch). Here the whole
// step runs as one chain of phases handed to a WorkerTeam (core/worker_team.h: the caller plus
// helpers that join when awake, no barriers). A block is a fixed range of output columns of one
// product (or one read head's read), so the results do not depend on the threads:
//
//   per layer:  a = LN_1(x) (each thread, privately)  → qkv = a·W_qkv + b    [Q = R·W + 2·S·W]
//               write k, v into slot n of the memory; r_h = read(q_h) over slots 0..n  [R·W]
//                 in the two phases of backend/cpu/slot_read.h: per chunk of 64 slots its
//                 scores, softmax numerators and weighted values (the rows swept one S·W row
//                 at a time), then per head the chunks combined in order
//               x += r·W_o + b
//               a = LN_2(x)  → f = act(a·W_up + b)                            [F]
//               x += f·W_down + b
//   logits = LN_f(x)·Eᵀ (the head, optional)                                  [V]
//
// The memory of a layer is slot-major, as machine::MemoryState's in-place buffers: keys and
// values [capacity, S·W], slot j's row at j·S·W, slice s at s·W within it; read head h reads
// slice h·S/R (S = R: multi-head attention; S < R: grouped-query attention).
// Letters: D model width, R read heads, S memory slices, W word size, F feed-forward width,
// V vocabulary, n slots written before this step.
#pragma once
#include <cstdint>
#include <vector>

#include "sdnc/backend/cpu/gemv.h"
#include "sdnc/backend/cpu/gemv_lowp.h"

namespace sdnc::cpu {

struct DecodeShape {
  int64_t D = 0, R = 0, S = 0, W = 0, F = 0;
  double eps = 1e-5;                       // LayerNorm's
  bool conv1d = false;                     // weights [in, out] (GPT-2's Conv1D) or [out, in] (Linear)
  RowEpilogue activation = RowEpilogue::Relu;  // the FFN's hidden activation
};

// A product's weights: F32 in the step's layout, or a copy packed to BF16 / int8
// (backend/cpu/gemv_lowp.h) where that is given.
struct DecodeMatrix {
  const float* f32 = nullptr;
  const PackedMatrix* packed = nullptr;
};

// One layer's weights (biases may be null) and its memory buffers (capacity > n slots).
struct DecodeLayer {
  const float *norm1_w, *norm1_b;
  DecodeMatrix qkv;
  const float* qkv_b;
  DecodeMatrix out;
  const float *out_b, *norm2_w, *norm2_b;
  DecodeMatrix up;
  const float* up_b;
  DecodeMatrix down;
  const float* down_b;
  float *keys, *values;  // [capacity, S·W] each
};

// The head: logits = LN(x; norm_w, norm_b) · weightᵀ, weight [V, D] (Linear layout: a tied
// embedding).
struct DecodeHead {
  const float *norm_w = nullptr, *norm_b = nullptr;
  DecodeMatrix weight;
  int64_t V = 0;
};

// x [D]: the embedded token in, the last layer's output out. Writes slot n of every layer's
// memory. logits [V] when head.weight is given. Activations, memory and sums are F32 whatever
// the weights' format. threads: shares the blocks with the process's
// WorkerTeam when > 1 and the layers are large enough to be worth it.
void decode_step(const DecodeShape& shape, const std::vector<DecodeLayer>& layers, int64_t n, float* x,
                 const DecodeHead& head, float* logits);

}  // namespace sdnc::cpu
