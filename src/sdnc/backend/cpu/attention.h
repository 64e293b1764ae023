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

}  // namespace sdnc::cpu
