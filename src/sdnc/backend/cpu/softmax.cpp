#include "sdnc/backend/cpu/softmax.h"

#include <cmath>
#include <limits>
#include <vector>

#include "sdnc/core/parallel.h"

namespace sdnc::cpu {

// Layout: [outer, n, inner] around the axis. inner == 1 runs contiguous rows; otherwise
// each outer block processes its n × inner slab with the inner index as the vector lane.

void softmax_forward(const Tensor& x, int axis, bool log, Tensor& y) {
  AxisSplit s = split_at_axis(x.shape(), axis);
  dispatch_floating(x.dtype(), "softmax", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    const int64_t n = s.n, inner = s.inner;
    if (inner == 1) {
      parallel_for(s.outer, std::max<int64_t>(1, 4096 / n), [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) {
          const T* xr = px + r * n;
          T* yr = py + r * n;
          T m = -std::numeric_limits<T>::infinity();
          for (int64_t j = 0; j < n; ++j) m = std::max(m, xr[j]);
          T sum = 0;
          for (int64_t j = 0; j < n; ++j) {
            T v = std::exp(xr[j] - m);
            yr[j] = v;
            sum += v;
          }
          if (log) {  // (x - max) - log Σ: exact 0 - log Σ for the max entry even at |x| ~ 1e3
            T ls = std::log(sum);
            for (int64_t j = 0; j < n; ++j) yr[j] = (xr[j] - m) - ls;
          } else {
            T inv = T(1) / sum;
            for (int64_t j = 0; j < n; ++j) yr[j] *= inv;
          }
        }
      });
      return;
    }
    parallel_for(s.outer, std::max<int64_t>(1, 4096 / (n * inner)), [&](int64_t b, int64_t e) {
      std::vector<T> m(inner), sum(inner);
      for (int64_t o = b; o < e; ++o) {
        const T* xo = px + o * n * inner;
        T* yo = py + o * n * inner;
        std::fill(m.begin(), m.end(), -std::numeric_limits<T>::infinity());
        std::fill(sum.begin(), sum.end(), T(0));
        for (int64_t j = 0; j < n; ++j)
          for (int64_t i = 0; i < inner; ++i) m[i] = std::max(m[i], xo[j * inner + i]);
        for (int64_t j = 0; j < n; ++j)
          for (int64_t i = 0; i < inner; ++i) {
            T v = std::exp(xo[j * inner + i] - m[i]);
            yo[j * inner + i] = v;
            sum[i] += v;
          }
        if (log) {
          for (int64_t i = 0; i < inner; ++i) sum[i] = std::log(sum[i]);
          for (int64_t j = 0; j < n; ++j)
            for (int64_t i = 0; i < inner; ++i) yo[j * inner + i] = (xo[j * inner + i] - m[i]) - sum[i];
        } else {
          for (int64_t i = 0; i < inner; ++i) sum[i] = T(1) / sum[i];
          for (int64_t j = 0; j < n; ++j)
            for (int64_t i = 0; i < inner; ++i) yo[j * inner + i] *= sum[i];
        }
      }
    });
  });
}

void softmax_backward(const Tensor& g, const Tensor& y, int axis, bool log, Tensor& dx) {
  AxisSplit s = split_at_axis(y.shape(), axis);
  dispatch_floating(y.dtype(), "softmax", [&](auto tag) {
    using T = decltype(tag);
    const T* pg = g.data<T>();
    const T* py = y.data<T>();
    T* pd = dx.data<T>();
    const int64_t n = s.n, inner = s.inner;
    // softmax: dx = y · (g - Σ g·y); log_softmax: dx = g - exp(y) · Σ g.
    parallel_for(s.outer, std::max<int64_t>(1, 4096 / (n * inner)), [&](int64_t b, int64_t e) {
      std::vector<T> dot(inner);
      for (int64_t o = b; o < e; ++o) {
        const T* go = pg + o * n * inner;
        const T* yo = py + o * n * inner;
        T* d = pd + o * n * inner;
        std::fill(dot.begin(), dot.end(), T(0));
        if (log) {
          for (int64_t j = 0; j < n; ++j)
            for (int64_t i = 0; i < inner; ++i) dot[i] += go[j * inner + i];
          for (int64_t j = 0; j < n; ++j)
            for (int64_t i = 0; i < inner; ++i)
              d[j * inner + i] = go[j * inner + i] - std::exp(yo[j * inner + i]) * dot[i];
        } else {
          for (int64_t j = 0; j < n; ++j)
            for (int64_t i = 0; i < inner; ++i) dot[i] += go[j * inner + i] * yo[j * inner + i];
          for (int64_t j = 0; j < n; ++j)
            for (int64_t i = 0; i < inner; ++i)
              d[j * inner + i] = yo[j * inner + i] * (go[j * inner + i] - dot[i]);
        }
      }
    });
  });
}

}  // namespace sdnc::cpu
