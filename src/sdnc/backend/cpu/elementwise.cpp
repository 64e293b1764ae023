#include "sdnc/backend/cpu/elementwise.h"

#include <cstring>

#include "sdnc/core/parallel.h"

namespace sdnc::cpu {

namespace {

// Strides (in elements) of `s` aligned to an output of rank n; 0 where broadcast.
std::vector<int64_t> broadcast_strides(const Shape& s, const Shape& out) {
  size_t n = out.size(), lead = n - s.size();
  std::vector<int64_t> st(n, 0);
  int64_t stride = 1;
  for (size_t i = n; i-- > lead;) {
    int64_t d = s[i - lead];
    st[i] = d == 1 ? 0 : stride;
    stride *= d;
  }
  return st;
}

template <class T, class F>
void binary_loop(const T* a, const Shape& as, const T* b, const Shape& bs, T* o, const Shape& os, F f) {
  int64_t n = shape_numel(os), na = shape_numel(as), nb = shape_numel(bs);
  if (na == n && nb == n) {  // same shape
    parallel_for(n, 1 << 14, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) o[i] = f(a[i], b[i]);
    });
    return;
  }
  bool b_suffix = nb > 0 && n % nb == 0 && na == n && (bs.size() <= os.size()) &&
                  std::equal(bs.begin(), bs.end(), os.end() - bs.size());
  bool a_suffix = na > 0 && n % na == 0 && nb == n && (as.size() <= os.size()) &&
                  std::equal(as.begin(), as.end(), os.end() - as.size());
  if (b_suffix || a_suffix) {  // one operand repeats over leading dims (bias-like)
    int64_t inner = b_suffix ? nb : na, rows = n / inner;
    parallel_for(rows, std::max<int64_t>(1, (1 << 14) / inner), [&](int64_t s, int64_t e) {
      for (int64_t r = s; r < e; ++r) {
        const T* ar = b_suffix ? a + r * inner : a;
        const T* br = b_suffix ? b : b + r * inner;
        T* orow = o + r * inner;
        for (int64_t i = 0; i < inner; ++i) orow[i] = f(ar[i], br[i]);
      }
    });
    return;
  }
  // General case: walk the output index, odometer style.
  auto sa = broadcast_strides(as, os), sb = broadcast_strides(bs, os);
  int nd = static_cast<int>(os.size());
  parallel_for(n, 1 << 14, [&](int64_t s, int64_t e) {
    std::vector<int64_t> idx(nd);
    int64_t rem = s, ia = 0, ib = 0;
    for (int d = nd - 1; d >= 0; --d) {
      idx[d] = rem % os[d];
      rem /= os[d];
      ia += idx[d] * sa[d];
      ib += idx[d] * sb[d];
    }
    for (int64_t i = s; i < e; ++i) {
      o[i] = f(a[ia], b[ib]);
      for (int d = nd - 1; d >= 0; --d) {
        ia += sa[d];
        ib += sb[d];
        if (++idx[d] < os[d]) break;
        ia -= sa[d] * os[d];
        ib -= sb[d] * os[d];
        idx[d] = 0;
      }
    }
  });
}

}  // namespace

void binary_forward(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  dispatch_floating(a.dtype(), "binary", [&](auto tag) {
    using T = decltype(tag);
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* po = out.data<T>();
    switch (op) {
      case BinaryOp::Add: binary_loop(pa, a.shape(), pb, b.shape(), po, out.shape(), [](T x, T y) { return x + y; }); break;
      case BinaryOp::Sub: binary_loop(pa, a.shape(), pb, b.shape(), po, out.shape(), [](T x, T y) { return x - y; }); break;
      case BinaryOp::Mul: binary_loop(pa, a.shape(), pb, b.shape(), po, out.shape(), [](T x, T y) { return x * y; }); break;
      case BinaryOp::Div: binary_loop(pa, a.shape(), pb, b.shape(), po, out.shape(), [](T x, T y) { return x / y; }); break;
    }
  });
}

void affine_scalar(const Tensor& a, double s, double t, Tensor& out) {
  dispatch_floating(a.dtype(), "affine_scalar", [&](auto tag) {
    using T = decltype(tag);
    const T* pa = a.data<T>();
    T* po = out.data<T>();
    T ts = static_cast<T>(s), tt = static_cast<T>(t);
    parallel_for(a.numel(), 1 << 14, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) po[i] = pa[i] * ts + tt;
    });
  });
}

void sum_to_shape(const Tensor& g, Tensor& out) {
  const Shape& gs = g.shape();
  const Shape& ts = out.shape();
  dispatch_floating(g.dtype(), "sum_to_shape", [&](auto tag) {
    using T = decltype(tag);
    const T* pg = g.data<T>();
    T* po = out.data<T>();
    int64_t n = g.numel(), m = out.numel();
    bool suffix = ts.size() <= gs.size() && std::equal(ts.begin(), ts.end(), gs.end() - ts.size());
    if (suffix) {  // sum over leading rows; parallel over the target's columns
      int64_t rows = n / m;
      parallel_for(m, 256, [&](int64_t s, int64_t e) {
        for (int64_t j = s; j < e; ++j) po[j] = 0;
        for (int64_t r = 0; r < rows; ++r) {
          const T* row = pg + r * m;
          for (int64_t j = s; j < e; ++j) po[j] += row[j];
        }
      });
      return;
    }
    std::memset(po, 0, m * sizeof(T));
    auto st = broadcast_strides(ts, gs);
    int nd = static_cast<int>(gs.size());
    std::vector<int64_t> idx(nd, 0);
    int64_t it = 0;
    for (int64_t i = 0; i < n; ++i) {
      po[it] += pg[i];
      for (int d = nd - 1; d >= 0; --d) {
        it += st[d];
        if (++idx[d] < gs[d]) break;
        it -= st[d] * gs[d];
        idx[d] = 0;
      }
    }
  });
}

}  // namespace sdnc::cpu
