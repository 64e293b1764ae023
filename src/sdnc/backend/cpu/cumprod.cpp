#include "sdnc/backend/cpu/cumprod.h"

#include <vector>

#include "sdnc/core/parallel.h"

namespace sdnc::cpu {

// Layout: [outer, n, inner] around the axis. Each outer block walks its n positions in
// order with a running product per inner lane (the inner loop vectorises).

namespace {
// Calls f(o, acc) for every outer block o, with a scratch row acc [inner] per thread.
template <class T, class F>
void for_blocks(const AxisSplit& s, F&& f) {
  parallel_for(s.outer, std::max<int64_t>(1, 4096 / (s.n * s.inner)), [&](int64_t b, int64_t e) {
    std::vector<T> acc(s.inner);
    for (int64_t o = b; o < e; ++o) f(o, acc.data());
  });
}
}  // namespace

void cumprod_forward(const Tensor& x, int axis, bool exclusive, Tensor& y) {
  AxisSplit s = split_at_axis(x.shape(), axis);
  dispatch_floating(x.dtype(), "cumprod", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    const int64_t n = s.n, inner = s.inner;
    for_blocks<T>(s, [&](int64_t o, T*) {
      const T* xo = px + o * n * inner;
      T* yo = py + o * n * inner;
      // Row k of y is row k-1 of y times row k of x (inclusive) or row k-1 of x (exclusive).
      for (int64_t i = 0; i < inner; ++i) yo[i] = exclusive ? T(1) : xo[i];
      for (int64_t k = 1; k < n; ++k) {
        const T* xr = xo + (exclusive ? k - 1 : k) * inner;
        const T* prev = yo + (k - 1) * inner;
        T* yr = yo + k * inner;
        for (int64_t i = 0; i < inner; ++i) yr[i] = prev[i] * xr[i];
      }
    });
  });
}

void cumprod_backward(const Tensor& g, const Tensor& x, int axis, bool exclusive, Tensor& dx) {
  AxisSplit s = split_at_axis(x.shape(), axis);
  dispatch_floating(x.dtype(), "cumprod", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    const T* pg = g.data<T>();
    T* pd = dx.data<T>();
    const int64_t n = s.n, inner = s.inner;
    for_blocks<T>(s, [&](int64_t o, T* acc) {
      const T* xo = px + o * n * inner;
      const T* go = pg + o * n * inner;
      T* d = pd + o * n * inner;
      // Pass 1, from the end: the suffix sums.
      //   inclusive: S_j = g_j + x_{j+1}·S_{j+1}            (acc holds x_{j+1}·S_{j+1})
      //   exclusive: S'_j = g_{j+1} + x_{j+1}·S'_{j+1}, S'_{n-1} = 0   (acc holds S'_j)
      std::fill(acc, acc + inner, T(0));
      for (int64_t j = n - 1; j >= 0; --j) {
        const T* xr = xo + j * inner;
        const T* gr = go + j * inner;
        T* dr = d + j * inner;
        if (exclusive) {
          for (int64_t i = 0; i < inner; ++i) {
            dr[i] = acc[i];
            acc[i] = gr[i] + xr[i] * acc[i];
          }
        } else {
          for (int64_t i = 0; i < inner; ++i) {
            T sj = gr[i] + acc[i];
            dr[i] = sj;
            acc[i] = xr[i] * sj;
          }
        }
      }
      // Pass 2, from the start: multiply by the prefix product P_{j-1} = Π_{k<j} x_k.
      std::fill(acc, acc + inner, T(1));
      for (int64_t j = 0; j < n; ++j) {
        const T* xr = xo + j * inner;
        T* dr = d + j * inner;
        for (int64_t i = 0; i < inner; ++i) {
          dr[i] *= acc[i];
          acc[i] *= xr[i];
        }
      }
    });
  });
}

void prod_forward(const Tensor& x, int axis, Tensor& y) {
  AxisSplit s = split_at_axis(x.shape(), axis);
  dispatch_floating(x.dtype(), "prod", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* py = y.data<T>();
    const int64_t n = s.n, inner = s.inner;
    for_blocks<T>(s, [&](int64_t o, T*) {
      const T* xo = px + o * n * inner;
      T* yo = py + o * inner;
      for (int64_t i = 0; i < inner; ++i) yo[i] = xo[i];
      for (int64_t k = 1; k < n; ++k)
        for (int64_t i = 0; i < inner; ++i) yo[i] *= xo[k * inner + i];
    });
  });
}

void prod_backward(const Tensor& g, const Tensor& x, int axis, Tensor& dx) {
  AxisSplit s = split_at_axis(x.shape(), axis);
  dispatch_floating(x.dtype(), "prod", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    const T* pg = g.data<T>();
    T* pd = dx.data<T>();
    const int64_t n = s.n, inner = s.inner;
    for_blocks<T>(s, [&](int64_t o, T* acc) {
      const T* xo = px + o * n * inner;
      const T* go = pg + o * inner;
      T* d = pd + o * n * inner;
      // Suffix products Π_{k>j} x_k, from the end ...
      std::fill(acc, acc + inner, T(1));
      for (int64_t j = n - 1; j >= 0; --j)
        for (int64_t i = 0; i < inner; ++i) {
          d[j * inner + i] = acc[i];
          acc[i] *= xo[j * inner + i];
        }
      // ... times g · Π_{k<j} x_k, from the start.
      for (int64_t i = 0; i < inner; ++i) acc[i] = go[i];
      for (int64_t j = 0; j < n; ++j)
        for (int64_t i = 0; i < inner; ++i) {
          d[j * inner + i] *= acc[i];
          acc[i] *= xo[j * inner + i];
        }
    });
  });
}

}  // namespace sdnc::cpu
