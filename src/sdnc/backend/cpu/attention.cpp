#include "sdnc/backend/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "sdnc/backend/cpu/gemm.h"
#include "sdnc/backend/cpu/simd_math.h"
#include "sdnc/core/parallel.h"

namespace sdnc::cpu {

namespace {

struct Dims {
  int64_t B, H, T, S, Dh, Dv;
  int64_t cap;  // slots allocated per (b, h) in k and v
};

Dims dims_of(const Tensor& q, const Tensor& k, const Tensor& v, int64_t slots = -1) {
  int64_t cap = k.size(2);
  return {q.size(0), q.size(1), q.size(2), slots < 0 ? cap : slots, q.size(3), v.size(3), cap};
}

// Reads the padding mask as "hidden" flags per (b, j).
std::vector<uint8_t> hidden_slots(const Tensor& mask, int64_t B, int64_t S) {
  std::vector<uint8_t> hidden(B * S, 0);
  if (!mask.defined()) return hidden;
  auto values = mask.to_doubles();
  for (int64_t i = 0; i < B * S; ++i) hidden[i] = values[i] != 0.0;
  return hidden;
}

// Causal attention is computed in blocks of this many queries (and, backward, keys), each
// block touching only the slots some of its queries see: the GEMMs skip the hidden
// triangle (about 3/8 of the square at T = S = 256).
constexpr int64_t kBlock = 64;

// Query t sees slots [0, visible_end(t)) (before padding).
inline int64_t visible_end(const Dims& d, bool causal, int64_t t) {
  return causal ? std::clamp<int64_t>(t + (d.S - d.T) + 1, 0, d.S) : d.S;
}
// First query that sees slot j.
inline int64_t first_reader(const Dims& d, bool causal, int64_t j) {
  return causal ? std::clamp<int64_t>(j - (d.S - d.T), 0, d.T) : 0;
}

// (b, h) pairs per task: at least ~2^18 multiply-adds, so that small reads (one decoding
// step) stay on the calling thread instead of paying for a parallel region.
int64_t bh_grain(const Dims& d) {
  int64_t work = std::max<int64_t>(1, d.T * d.S * (d.Dh + d.Dv));
  return std::max<int64_t>(1, (int64_t{1} << 18) / work);
}

// Masks, normalises and zero-pads one row of scores: row[0, visible) ← softmax of the
// visible, non-hidden entries; row[visible, S) ← 0. A row that sees nothing becomes 0.
template <class T>
void softmax_row(T* row, int64_t visible, int64_t S, const uint8_t* hidden) {
  const T neg_inf = -std::numeric_limits<T>::infinity();
  if (hidden)
    for (int64_t j = 0; j < visible; ++j)
      if (hidden[j]) row[j] = neg_inf;
  T mx = neg_inf;
#pragma omp simd reduction(max : mx)
  for (int64_t j = 0; j < visible; ++j) mx = row[j] > mx ? row[j] : mx;
  if (mx == neg_inf) {  // nothing visible: read nothing
    std::fill(row, row + S, T(0));
    return;
  }
  T sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < visible; ++j) {
    T e = exp_fast(row[j] - mx);
    row[j] = e;
    sum += e;
  }
  T inv = T(1) / sum;
#pragma omp simd
  for (int64_t j = 0; j < visible; ++j) row[j] *= inv;
  std::fill(row + visible, row + S, T(0));
}

}  // namespace

void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_padding_mask,
                       bool causal, double scale, Tensor& weights, Tensor& out, int64_t slots) {
  Dims d = dims_of(q, k, v, slots);
  std::vector<uint8_t> hidden = hidden_slots(key_padding_mask, d.B, d.S);
  const bool any_hidden = key_padding_mask.defined();
  const int64_t rows = causal ? kBlock : d.T;
  dispatch_floating(q.dtype(), "attention", [&](auto tag) {
    using T = decltype(tag);
    const T *pq = q.data<T>(), *pk = k.data<T>(), *pv = v.data<T>();
    T *pw = weights.data<T>(), *po = out.data<T>();
    // One (batch, head) pair per task; GEMMs inside run on the task's thread.
    parallel_for(d.B * d.H, bh_grain(d), [&](int64_t begin, int64_t end) {
      for (int64_t bh = begin; bh < end; ++bh) {
        int64_t b = bh / d.H;
        const T* Q = pq + bh * d.T * d.Dh;
        const T* K = pk + bh * d.cap * d.Dh;
        const T* V = pv + bh * d.cap * d.Dv;
        T* P = pw + bh * d.T * d.S;
        T* O = po + bh * d.T * d.Dv;
        for (int64_t t0 = 0; t0 < d.T; t0 += rows) {
          int64_t t1 = std::min(d.T, t0 + rows), e1 = visible_end(d, causal, t1 - 1);
          if (e1 > 0)  // scores of the block's queries against the slots they can see
            gemm(false, true, t1 - t0, e1, d.Dh, static_cast<T>(scale), Q + t0 * d.Dh, d.Dh, K, d.Dh, T(0),
                 P + t0 * d.S, d.S);
          for (int64_t t = t0; t < t1; ++t)
            softmax_row(P + t * d.S, std::min(e1, visible_end(d, causal, t)), d.S,
                        any_hidden ? hidden.data() + b * d.S : nullptr);
          if (e1 > 0)  // read
            gemm(false, false, t1 - t0, d.Dv, e1, T(1), P + t0 * d.S, d.S, V, d.Dv, T(0), O + t0 * d.Dv, d.Dv);
          else
            std::fill(O + t0 * d.Dv, O + t1 * d.Dv, T(0));
        }
      }
    });
  });
}

void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& weights, const Tensor& out,
                        const Tensor& dout, double scale, Tensor* dq, Tensor* dk, Tensor* dv, bool causal) {
  Dims d = dims_of(q, k, v);
  const int64_t rows = causal ? kBlock : d.T, cols = causal ? kBlock : d.S;
  dispatch_floating(q.dtype(), "attention", [&](auto tag) {
    using T = decltype(tag);
    const T *pq = q.data<T>(), *pk = k.data<T>(), *pv = v.data<T>();
    const T *pw = weights.data<T>(), *po = out.data<T>(), *pdo = dout.data<T>();
    parallel_for(d.B * d.H, bh_grain(d), [&](int64_t begin, int64_t end) {
      std::vector<T> ds(d.T * d.S);
      for (int64_t bh = begin; bh < end; ++bh) {
        const T* Q = pq + bh * d.T * d.Dh;
        const T* K = pk + bh * d.S * d.Dh;
        const T* V = pv + bh * d.S * d.Dv;
        const T* P = pw + bh * d.T * d.S;
        const T* O = po + bh * d.T * d.Dv;
        const T* dO = pdo + bh * d.T * d.Dv;
        // Per block of slots [j0, j1), only queries from first_reader(j0) on have nonzero weights.
        auto per_key_block = [&](T* dst, int64_t width, const T* A, const T* Bm, int64_t ldb, T alpha) {
          for (int64_t j0 = 0; j0 < d.S; j0 += cols) {
            int64_t j1 = std::min(d.S, j0 + cols), ts = first_reader(d, causal, j0);
            if (ts < d.T)  // dst[j0:j1] = alpha · A[ts:, j0:j1]ᵀ · Bm[ts:]
              gemm(true, false, j1 - j0, width, d.T - ts, alpha, A + ts * d.S + j0, d.S, Bm + ts * ldb, ldb, T(0),
                   dst + j0 * width, width);
            else
              std::fill(dst + j0 * width, dst + j1 * width, T(0));
          }
        };
        if (dv) per_key_block(dv->data<T>() + bh * d.S * d.Dv, d.Dv, P, dO, d.Dv, T(1));  // dV = wᵀ·dO
        if (!dq && !dk) continue;
        for (int64_t t0 = 0; t0 < d.T; t0 += rows) {
          int64_t t1 = std::min(d.T, t0 + rows), e1 = visible_end(d, causal, t1 - 1);
          T* dsb = ds.data() + t0 * d.S;
          if (e1 > 0)  // dw = dO·Vᵀ over the slots the block sees
            gemm(false, true, t1 - t0, e1, d.Dv, T(1), dO + t0 * d.Dv, d.Dv, V, d.Dv, T(0), dsb, d.S);
          for (int64_t t = t0; t < t1; ++t) {  // ds = w ∘ (dw − dO·O); 0 where w is 0
            T dot = 0;
#pragma omp simd reduction(+ : dot)
            for (int64_t c = 0; c < d.Dv; ++c) dot += dO[t * d.Dv + c] * O[t * d.Dv + c];
            T* row = ds.data() + t * d.S;
            const T* w = P + t * d.S;
#pragma omp simd
            for (int64_t j = 0; j < e1; ++j) row[j] = w[j] * (row[j] - dot);
            std::fill(row + e1, row + d.S, T(0));
          }
          if (dq) {  // dQ = scale · ds · K
            T* dQ = dq->data<T>() + bh * d.T * d.Dh + t0 * d.Dh;
            if (e1 > 0)
              gemm(false, false, t1 - t0, d.Dh, e1, static_cast<T>(scale), dsb, d.S, K, d.Dh, T(0), dQ, d.Dh);
            else
              std::fill(dQ, dQ + (t1 - t0) * d.Dh, T(0));
          }
        }
        if (dk) per_key_block(dk->data<T>() + bh * d.S * d.Dh, d.Dh, ds.data(), Q, d.Dh, static_cast<T>(scale));
      }
    });
  });
}

}  // namespace sdnc::cpu

namespace sdnc::cpu {

void attention_one_query(const float* q, const float* K, const float* V, int64_t n, int64_t Dh, int64_t Dv,
                         float scale, float* scores, float* out) {
  // Scores, four slots at a time (four independent reduction chains).
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const float* k0 = K + j * Dh;
    const float *k1 = k0 + Dh, *k2 = k1 + Dh, *k3 = k2 + Dh;
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
    for (int64_t c = 0; c < Dh; ++c) {
      s0 += q[c] * k0[c];
      s1 += q[c] * k1[c];
      s2 += q[c] * k2[c];
      s3 += q[c] * k3[c];
    }
    scores[j] = s0 * scale, scores[j + 1] = s1 * scale, scores[j + 2] = s2 * scale, scores[j + 3] = s3 * scale;
  }
  for (; j < n; ++j) {
    const float* k0 = K + j * Dh;
    float s0 = 0;
#pragma omp simd reduction(+ : s0)
    for (int64_t c = 0; c < Dh; ++c) s0 += q[c] * k0[c];
    scores[j] = s0 * scale;
  }
  const float sum = exp_shifted_in_place(scores, n);  // the softmax, normalised at the end
  // Read: the weighted sum of the values, four slots per pass over out (a load and a store
  // of out per four FMAs), normalised once at the end.
  std::fill(out, out + Dv, 0.0f);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float w0 = scores[i], w1 = scores[i + 1], w2 = scores[i + 2], w3 = scores[i + 3];
    const float* v0 = V + i * Dv;
    const float *v1 = v0 + Dv, *v2 = v1 + Dv, *v3 = v2 + Dv;
#pragma omp simd
    for (int64_t c = 0; c < Dv; ++c) out[c] += w0 * v0[c] + w1 * v1[c] + w2 * v2[c] + w3 * v3[c];
  }
  for (; i < n; ++i) {
    const float w = scores[i];
    const float* v = V + i * Dv;
#pragma omp simd
    for (int64_t c = 0; c < Dv; ++c) out[c] += w * v[c];
  }
  const float inv = 1.0f / sum;
#pragma omp simd
  for (int64_t c = 0; c < Dv; ++c) out[c] *= inv;
}

void attention_tiled_queries(const float* q, int64_t G, const float* K_tiles, const float* V, int64_t n, int64_t Dh,
                             int64_t Dv, float scale, float* scores, float* out) {
  constexpr int64_t kT = kKeyTile, kQ = 4;  // queries per pass over the memory
  const int64_t tiles = (n + kT - 1) / kT, stride = tiles * kT;  // scores row stride
  for (int64_t g0 = 0; g0 < G; g0 += kQ) {
    const int64_t gn = std::min(kQ, G - g0);
    // Scores: each tile's key vectors loaded once for the pass's queries.
    for (int64_t t = 0; t < tiles; ++t) {
      const float* tile = K_tiles + t * Dh * kT;
      float acc[kQ][kT] = {};
      for (int64_t c = 0; c < Dh; ++c) {
        const float* row = tile + c * kT;
        for (int64_t g = 0; g < kQ; ++g) {
          const float qc = g < gn ? q[(g0 + g) * Dh + c] : 0.0f;
#pragma omp simd
          for (int64_t i = 0; i < kT; ++i) acc[g][i] += qc * row[i];
        }
      }
      for (int64_t g = 0; g < gn; ++g)
        for (int64_t i = 0; i < kT; ++i) scores[(g0 + g) * stride + t * kT + i] = acc[g][i] * scale;
    }
    // Softmax per query over its n scores (a tile's slots past n are not read).
    float inv[kQ] = {};
    for (int64_t g = 0; g < gn; ++g) inv[g] = 1.0f / exp_shifted_in_place(scores + (g0 + g) * stride, n);
    // Read: each value row loaded once for the pass's queries, normalised once at the end.
    float* o0 = out + g0 * Dv;
    std::fill(o0, o0 + gn * Dv, 0.0f);
    for (int64_t j = 0; j < n; ++j) {
      const float* v = V + j * Dv;
      for (int64_t g = 0; g < gn; ++g) {
        const float w = scores[(g0 + g) * stride + j];
        float* o = o0 + g * Dv;
#pragma omp simd
        for (int64_t c = 0; c < Dv; ++c) o[c] += w * v[c];
      }
    }
    for (int64_t g = 0; g < gn; ++g)
#pragma omp simd
      for (int64_t c = 0; c < Dv; ++c) o0[g * Dv + c] *= inv[g];
  }
}

}  // namespace sdnc::cpu
