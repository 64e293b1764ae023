// backend/cpu/attention.h — CPU kernels of ops/attention.
#pragma once
#include "sdnc/core/tensor.h"

namespace sdnc::cpu {

// visible(b, t, j) is decided by causal / key_padding_mask (see ops/attention.h).
// weights [B, H, T, S] and out [B, H, T, Dv] are written.
// k, v may hold more slots than are written ([B, H, capacity, D], a growing memory):
// `slots` (−1: all) says how many of them, from the first, are read.
void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_padding_mask,
                       bool causal, double scale, Tensor& weights, Tensor& out, int64_t slots = -1);

// Given dout [B, H, T, Dv], writes dq, dk, dv (any may be undefined to skip). causal must
// be the forward's: it only lets the kernel skip the blocks of weights that are all zero.
void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& weights, const Tensor& out,
                        const Tensor& dout, double scale, Tensor* dq, Tensor* dk, Tensor* dv, bool causal = false);

// One query of one head reading the first n slots of its memory (a decoding step), F32,
// serial: K [n, Dh] and V [n, Dv] with row strides Dh and Dv, scores [n] is scratch.
//   out[Dv] = Σ_j softmax_j(scale · q·K_j) · V_j     (every slot j < n visible)
// The same arithmetic as one row of attention_forward (exp_f32, max-shifted softmax).
void attention_one_query(const float* q, const float* K, const float* V, int64_t n, int64_t Dh, int64_t Dv,
                         float scale, float* scores, float* out);

// G queries that read the same memory (grouped-query attention: the heads of one KV slice)
// in one pass over it, F32, serial. The keys are held in tiles of kKeyTile slots: tile t is
// [Dh, kKeyTile] (slot t·kKeyTile + i, input c at t·Dh·kKeyTile + c·kKeyTile + i), so a query's
// scores for a tile are Dh vector FMAs, with no horizontal sums, and each key vector loaded
// serves all G queries; slots past n in the last tile are never read. V [n, Dv] row-major.
//   out[g, Dv] = Σ_j softmax_j(scale · q_g·K_j) · V_j     (g < G, every slot j < n visible)
// q [G, Dh], scores [G, kKeyTile·⌈n/kKeyTile⌉] scratch. The softmax of attention_one_query
// (max-shifted, exp_f32); the scores are summed over the inputs in order.
constexpr int64_t kKeyTile = 16;
void attention_tiled_queries(const float* q, int64_t G, const float* K_tiles, const float* V, int64_t n, int64_t Dh,
                             int64_t Dv, float scale, float* scores, float* out);
// Writes key [Dh] as slot j of a tiled key memory.
inline void write_tiled_key(float* K_tiles, int64_t j, const float* key, int64_t Dh) {
  float* tile = K_tiles + (j / kKeyTile) * Dh * kKeyTile + j % kKeyTile;
  for (int64_t c = 0; c < Dh; ++c) tile[c * kKeyTile] = key[c];
}

}  // namespace sdnc::cpu
