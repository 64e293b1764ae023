#include "sdnc/backend/cpu/loss.h"

#include <cmath>
#include <limits>
#include <vector>

#include "sdnc/core/parallel.h"

namespace sdnc::cpu {

// ---- cross-entropy --------------------------------------------------------------------

double cross_entropy_forward(const Tensor& logits, const Tensor& targets, int64_t ignore_index, Tensor& row_max,
                             Tensor& row_logsum) {
  int64_t C = logits.size(-1), R = logits.numel() / C;
  const int64_t* pt = targets.data<int64_t>();
  std::vector<double> row_loss(R);
  dispatch_floating(logits.dtype(), "cross_entropy", [&](auto tag) {
    using T = decltype(tag);
    const T* px = logits.data<T>();
    T* pm = row_max.data<T>();
    T* pl = row_logsum.data<T>();
    parallel_for(R, std::max<int64_t>(1, 4096 / C), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const T* xr = px + r * C;
        T m = -std::numeric_limits<T>::infinity();
        for (int64_t j = 0; j < C; ++j) m = std::max(m, xr[j]);
        T s = 0;
        for (int64_t j = 0; j < C; ++j) s += std::exp(xr[j] - m);
        T ls = std::log(s);
        pm[r] = m;
        pl[r] = ls;
        // (max - x_t) + log Σ keeps the small log Σ even when |logits| ~ 1e3.
        row_loss[r] = pt[r] == ignore_index ? 0.0 : static_cast<double>((m - xr[pt[r]]) + ls);
      }
    });
  });
  double total = 0;
  for (int64_t r = 0; r < R; ++r) total += row_loss[r];
  return total;
}

void cross_entropy_backward(const Tensor& logits, const Tensor& targets, int64_t ignore_index,
                            const Tensor& row_max, const Tensor& row_logsum, double scale, Tensor& dlogits) {
  int64_t C = logits.size(-1), R = logits.numel() / C;
  const int64_t* pt = targets.data<int64_t>();
  dispatch_floating(logits.dtype(), "cross_entropy", [&](auto tag) {
    using T = decltype(tag);
    const T* px = logits.data<T>();
    const T* pm = row_max.data<T>();
    const T* pl = row_logsum.data<T>();
    T* pd = dlogits.data<T>();
    T sc = static_cast<T>(scale);
    parallel_for(R, std::max<int64_t>(1, 4096 / C), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const T* xr = px + r * C;
        T* dr = pd + r * C;
        if (pt[r] == ignore_index) {
          for (int64_t j = 0; j < C; ++j) dr[j] = 0;
          continue;
        }
        T m = pm[r], ls = pl[r];
        for (int64_t j = 0; j < C; ++j) dr[j] = std::exp((xr[j] - m) - ls) * sc;
        dr[pt[r]] -= sc;
      }
    });
  });
}

// ---- sigmoid binary cross-entropy -----------------------------------------------------

namespace {
constexpr int64_t kBlock = 4096;  // fixed summation blocks: the sum's order never changes

template <class T>
inline T bce_elem(T x, T t) {
  return std::max(x, T(0)) - x * t + std::log1p(std::exp(-std::fabs(x)));
}
template <class T>
inline T sigmoid_stable(T x) {
  T e = std::exp(-std::fabs(x));
  return x >= 0 ? T(1) / (T(1) + e) : e / (T(1) + e);
}
}  // namespace

double bce_with_logits_forward(const Tensor& x, const Tensor& t, const Tensor& mask) {
  int64_t N = x.numel();
  int64_t K = mask.defined() ? N / mask.numel() : N;
  int64_t blocks = (N + kBlock - 1) / kBlock;
  std::vector<double> partial(blocks);
  dispatch_floating(x.dtype(), "sigmoid_bce_with_logits", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    const T* pt = t.data<T>();
    const T* pm = mask.defined() ? mask.data<T>() : nullptr;
    parallel_for(blocks, 1, [&](int64_t b, int64_t e) {
      for (int64_t blk = b; blk < e; ++blk) {
        int64_t lo = blk * kBlock, hi = std::min(N, lo + kBlock);
        double s = 0;
        if (pm) {
          for (int64_t i = lo; i < hi; ++i) s += static_cast<double>(pm[i / K] * bce_elem(px[i], pt[i]));
        } else {
          for (int64_t i = lo; i < hi; ++i) s += static_cast<double>(bce_elem(px[i], pt[i]));
        }
        partial[blk] = s;
      }
    });
  });
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

void bce_with_logits_backward(const Tensor& x, const Tensor& t, const Tensor& mask, double scale, Tensor& dx,
                              Tensor& dt, Tensor& dmask) {
  int64_t N = x.numel();
  // Groups of K consecutive elements share one mask entry (without a mask: fixed blocks).
  int64_t K = mask.defined() ? N / mask.numel() : std::min(N, kBlock);
  int64_t M = mask.defined() ? mask.numel() : (N + K - 1) / K;
  dispatch_floating(x.dtype(), "sigmoid_bce_with_logits", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    const T* pt = t.data<T>();
    const T* pm = mask.defined() ? mask.data<T>() : nullptr;
    T* pdx = dx.defined() ? dx.data<T>() : nullptr;
    T* pdt = dt.defined() ? dt.data<T>() : nullptr;
    T* pdm = dmask.defined() ? dmask.data<T>() : nullptr;
    T sc = static_cast<T>(scale);
    // One mask entry covers K consecutive elements; parallel over mask entries.
    parallel_for(M, std::max<int64_t>(1, kBlock / K), [&](int64_t b, int64_t e) {
      for (int64_t j = b; j < e; ++j) {
        T w = pm ? pm[j] * sc : sc;
        int64_t len = std::min(K, N - j * K);
        const T* xj = px + j * K;
        const T* tj = pt + j * K;
        if (pdx) {
          T* d = pdx + j * K;
          for (int64_t k = 0; k < len; ++k) d[k] = w * (sigmoid_stable(xj[k]) - tj[k]);
        }
        if (pdt) {
          T* d = pdt + j * K;
          for (int64_t k = 0; k < len; ++k) d[k] = -w * xj[k];
        }
        if (pdm) {
          double s = 0;
          for (int64_t k = 0; k < len; ++k) s += static_cast<double>(bce_elem(xj[k], tj[k]));
          pdm[j] = static_cast<T>(s * scale);
        }
      }
    });
  });
}

}  // namespace sdnc::cpu
