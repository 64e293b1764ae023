#include "sdnc/backend/cpu/attention.h"

#include <cmath>
#include <limits>
#include <vector>

#include "sdnc/backend/cpu/gemm.h"
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

}  // namespace

void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_padding_mask,
                       bool causal, double scale, Tensor& weights, Tensor& out, int64_t slots) {
  Dims d = dims_of(q, k, v, slots);
  std::vector<uint8_t> hidden = hidden_slots(key_padding_mask, d.B, d.S);
  dispatch_floating(q.dtype(), "attention", [&](auto tag) {
    using T = decltype(tag);
    const T *pq = q.data<T>(), *pk = k.data<T>(), *pv = v.data<T>();
    T *pw = weights.data<T>(), *po = out.data<T>();
    const T neg_inf = -std::numeric_limits<T>::infinity();
    // One (batch, head) pair per task; BLAS calls inside run single-threaded.
    parallel_for(d.B * d.H, 1, [&](int64_t begin, int64_t end) {
      for (int64_t bh = begin; bh < end; ++bh) {
        int64_t b = bh / d.H;
        const T* Q = pq + bh * d.T * d.Dh;
        const T* K = pk + bh * d.cap * d.Dh;
        const T* V = pv + bh * d.cap * d.Dv;
        T* P = pw + bh * d.T * d.S;
        T* O = po + bh * d.T * d.Dv;
        gemm(false, true, d.T, d.S, d.Dh, static_cast<T>(scale), Q, d.Dh, K, d.Dh, T(0), P, d.S);  // scores
        for (int64_t t = 0; t < d.T; ++t) {  // mask + softmax over slots
          T* row = P + t * d.S;
          int64_t last = causal ? std::min(d.S, t + (d.S - d.T) + 1) : d.S;
          T mx = neg_inf;
          for (int64_t j = 0; j < d.S; ++j) {
            if (j >= last || hidden[b * d.S + j]) row[j] = neg_inf;
            mx = std::max(mx, row[j]);
          }
          if (mx == neg_inf) {  // nothing visible: read nothing
            std::fill(row, row + d.S, T(0));
            continue;
          }
          T sum = 0;
          for (int64_t j = 0; j < d.S; ++j) {
            row[j] = std::exp(row[j] - mx);
            sum += row[j];
          }
          T inv = T(1) / sum;
          for (int64_t j = 0; j < d.S; ++j) row[j] *= inv;
        }
        gemm(false, false, d.T, d.Dv, d.S, T(1), P, d.S, V, d.Dv, T(0), O, d.Dv);  // read
      }
    });
  });
}

void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& weights, const Tensor& out,
                        const Tensor& dout, double scale, Tensor* dq, Tensor* dk, Tensor* dv) {
  Dims d = dims_of(q, k, v);
  dispatch_floating(q.dtype(), "attention", [&](auto tag) {
    using T = decltype(tag);
    const T *pq = q.data<T>(), *pk = k.data<T>(), *pv = v.data<T>();
    const T *pw = weights.data<T>(), *po = out.data<T>(), *pdo = dout.data<T>();
    parallel_for(d.B * d.H, 1, [&](int64_t begin, int64_t end) {
      std::vector<T> ds(d.T * d.S);
      for (int64_t bh = begin; bh < end; ++bh) {
        const T* Q = pq + bh * d.T * d.Dh;
        const T* K = pk + bh * d.S * d.Dh;
        const T* V = pv + bh * d.S * d.Dv;
        const T* P = pw + bh * d.T * d.S;
        const T* O = po + bh * d.T * d.Dv;
        const T* dO = pdo + bh * d.T * d.Dv;
        if (dv) gemm(true, false, d.S, d.Dv, d.T, T(1), P, d.S, dO, d.Dv, T(0), dv->data<T>() + bh * d.S * d.Dv, d.Dv);
        if (!dq && !dk) continue;
        gemm(false, true, d.T, d.S, d.Dv, T(1), dO, d.Dv, V, d.Dv, T(0), ds.data(), d.S);  // dw = dO·Vᵀ
        for (int64_t t = 0; t < d.T; ++t) {  // ds = w ∘ (dw − dO·O)
          T dot = 0;
          for (int64_t c = 0; c < d.Dv; ++c) dot += dO[t * d.Dv + c] * O[t * d.Dv + c];
          T* row = ds.data() + t * d.S;
          const T* w = P + t * d.S;
          for (int64_t j = 0; j < d.S; ++j) row[j] = w[j] * (row[j] - dot);
        }
        if (dq) gemm(false, false, d.T, d.Dh, d.S, static_cast<T>(scale), ds.data(), d.S, K, d.Dh, T(0),
                     dq->data<T>() + bh * d.T * d.Dh, d.Dh);
        if (dk) gemm(true, false, d.S, d.Dh, d.T, static_cast<T>(scale), ds.data(), d.S, Q, d.Dh, T(0),
                     dk->data<T>() + bh * d.S * d.Dh, d.Dh);
      }
    });
  });
}

}  // namespace sdnc::cpu
