// positions.h — where a stateless controller's step sits in time. A recurrent controller
// counts time itself (positions = none); a stateless one is told by one of:
//   learned     x_t += P[t]                               (pos_embed.weight [max_positions, D])
//   sinusoidal  x_t += PE(t), PE[t, 2i] = sin(t / 10000^(2i/D)), PE[t, 2i+1] = cos(..)
//   rope        query and key of slot t rotated by t·θ_i, θ_i = theta^(−2i/W) (theta = rope_theta,
//               10000 by default), pairs (i, i + W/2)
//               (Hugging Face's rotate_half layout)
//   alibi       score of query t on slot j gets −m_r·(t − j), m_r = 2^(−8(r+1)/R)
#pragma once
#include "sdnc/core/tensor.h"

namespace sdnc::machine {

// x [B, n, K, W] at positions first..first+n−1 → rotated (autograd through simple ops).
Tensor rope(const Tensor& x, int64_t first_position, double theta = 10000.0);

// ALiBi scores bias for queries at positions [first, first + n) over slots 0..slots−1
// → [R, n, slots] (slots after a query's position get 0: the causal mask hides them).
Tensor alibi_bias(int64_t heads, int64_t first_position, int64_t n, int64_t slots, DType dtype);

}  // namespace sdnc::machine
