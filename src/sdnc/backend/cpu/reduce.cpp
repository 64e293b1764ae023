#include "sdnc/backend/cpu/reduce.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "sdnc/core/parallel.h"

namespace sdnc::cpu {

namespace {


// Grain for a parallel_for over output positions that each read n inputs.
int64_t grain_for(int64_t n) { return std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(n, 1)); }

constexpr int64_t kBlock = 1 << 12;  // sum_all's fixed block: the summation order never changes

// Σ p[0..n) in double with 8 interleaved partial sums (vectorisable, fixed order).
template <class T>
double sum_contiguous(const T* p, int64_t n) {
  double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t k = 0;
  for (; k + 8 <= n; k += 8)
    for (int l = 0; l < 8; ++l) lane[l] += p[k + l];
  double tail = 0;
  for (; k < n; ++k) tail += p[k];
  return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7])) + tail;
}

}  // namespace

void sum_axis(const Tensor& x, const AxisSplit& s, double divisor, Tensor& out) {
  dispatch_floating(x.dtype(), "sum", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    const int64_t n = s.n, inner = s.inner;
    if (inner == 1) {  // reduce contiguous rows
      parallel_for(s.outer, grain_for(n), [&](int64_t b, int64_t e) {
        for (int64_t o = b; o < e; ++o) {
          po[o] = static_cast<T>(sum_contiguous(px + o * n, n) / divisor);
        }
      });
      return;
    }
    parallel_for(s.outer * inner, grain_for(n), [&](int64_t b, int64_t e) {
      std::vector<double> acc(std::min(inner, e - b));
      for_segments(b, e, inner, [&](int64_t o, int64_t i0, int64_t i1) {
        int64_t m = i1 - i0;
        std::fill_n(acc.begin(), m, 0.0);
        for (int64_t k = 0; k < n; ++k) {
          const T* row = px + (o * n + k) * inner + i0;
          for (int64_t i = 0; i < m; ++i) acc[i] += row[i];
        }
        T* dst = po + o * inner + i0;
        for (int64_t i = 0; i < m; ++i) dst[i] = static_cast<T>(acc[i] / divisor);
      });
    });
  });
}

void sum_axis_backward(const Tensor& g, const AxisSplit& s, double divisor, Tensor& dx) {
  dispatch_floating(g.dtype(), "sum", [&](auto tag) {
    using T = decltype(tag);
    const T* pg = g.data<T>();
    T* pd = dx.data<T>();
    const int64_t n = s.n, inner = s.inner;
    const T d = static_cast<T>(divisor);
    parallel_for(s.outer * n, grain_for(inner), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {  // row r = (o, k) of dx
        const T* src = pg + (r / n) * inner;
        T* dst = pd + r * inner;
        if (divisor == 1.0) {
          std::copy_n(src, inner, dst);
        } else {
          for (int64_t i = 0; i < inner; ++i) dst[i] = src[i] / d;
        }
      }
    });
  });
}

void max_axis(const Tensor& x, const AxisSplit& s, Tensor& out, Tensor& arg) {
  dispatch_floating(x.dtype(), "max", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* po = out.data<T>();
    int64_t* pa = arg.data<int64_t>();
    const int64_t n = s.n, inner = s.inner;
    // Strictly greater (or the first NaN) replaces: ties keep the first index.
    auto wins = [](T v, T best) { return v > best || (v != v && best == best); };
    parallel_for(s.outer * inner, grain_for(n), [&](int64_t b, int64_t e) {
      for_segments(b, e, inner, [&](int64_t o, int64_t i0, int64_t i1) {
        T* best = po + o * inner;
        int64_t* at = pa + o * inner;
        const T* base = px + o * n * inner;
        for (int64_t i = i0; i < i1; ++i) best[i] = base[i], at[i] = 0;
        for (int64_t k = 1; k < n; ++k) {
          const T* row = base + k * inner;
          for (int64_t i = i0; i < i1; ++i) {
            bool w = wins(row[i], best[i]);
            best[i] = w ? row[i] : best[i];
            at[i] = w ? k : at[i];
          }
        }
      });
    });
  });
}

void max_axis_backward(const Tensor& g, const Tensor& arg, const AxisSplit& s, Tensor& dx) {
  dispatch_floating(g.dtype(), "max", [&](auto tag) {
    using T = decltype(tag);
    const T* pg = g.data<T>();
    const int64_t* pa = arg.data<int64_t>();
    T* pd = dx.data<T>();
    const int64_t n = s.n, inner = s.inner;
    parallel_for(s.outer, grain_for(n * inner), [&](int64_t b, int64_t e) {
      std::fill(pd + b * n * inner, pd + e * n * inner, T(0));
      for (int64_t o = b; o < e; ++o)
        for (int64_t i = 0; i < inner; ++i) pd[(o * n + pa[o * inner + i]) * inner + i] = pg[o * inner + i];
    });
  });
}

void sum_all(const Tensor& x, double divisor, Tensor& out) {
  dispatch_floating(x.dtype(), "sum_all", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    const int64_t n = x.numel(), blocks = (n + kBlock - 1) / kBlock;
    std::vector<double> partial(blocks);
    parallel_for(blocks, 4, [&](int64_t b, int64_t e) {
      for (int64_t blk = b; blk < e; ++blk) {
        int64_t lo = blk * kBlock, hi = std::min(n, lo + kBlock);
        partial[blk] = sum_contiguous(px + lo, hi - lo);
      }
    });
    double total = 0;
    for (double v : partial) total += v;
    out.data<T>()[0] = static_cast<T>(total / divisor);
  });
}

void sum_all_backward(const Tensor& g, double divisor, Tensor& dx) {
  dispatch_floating(g.dtype(), "sum_all", [&](auto tag) {
    using T = decltype(tag);
    T v = g.data<T>()[0];
    if (divisor != 1.0) v = v / static_cast<T>(divisor);
    T* pd = dx.data<T>();
    parallel_for(dx.numel(), 1 << 15, [&](int64_t b, int64_t e) { std::fill(pd + b, pd + e, v); });
  });
}

}  // namespace sdnc::cpu
