#include "sdnc/backend/cpu/shape.h"

#include <algorithm>
#include <cstring>

#include "sdnc/core/parallel.h"

namespace sdnc::cpu {

namespace {

// Calls f(E{}) with an unsigned integer type of the element's size: copies move bits.
template <class F>
void dispatch_bits(DType dtype, const char* op, F&& f) {
  switch (dtype_size(dtype)) {
    case 2: f(uint16_t{}); return;
    case 4: f(uint32_t{}); return;
    case 8: f(uint64_t{}); return;
    default: fail(op, "unsupported dtype {}", dtype_name(dtype));
  }
}

std::vector<int64_t> row_major_strides(const Shape& s) {
  std::vector<int64_t> st(s.size());
  int64_t stride = 1;
  for (size_t d = s.size(); d-- > 0;) st[d] = stride, stride *= s[d];
  return st;
}


int64_t grain_for(int64_t work_per_item) {
  return std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(work_per_item, 1));
}

}  // namespace

void permute(const Tensor& x, const std::vector<int>& perm, Tensor& out) {
  const Shape& os = out.shape();
  const int nd = static_cast<int>(os.size());
  if (nd == 0) {
    std::memcpy(out.raw_data(), x.raw_data(), x.nbytes());
    return;
  }
  // Swap of the last two axes ([.., M, N] → [.., N, M]): a tiled transpose of each matrix.
  bool last_two_swapped = nd >= 2 && perm[nd - 1] == nd - 2 && perm[nd - 2] == nd - 1;
  for (int d = 0; last_two_swapped && d < nd - 2; ++d) last_two_swapped = perm[d] == d;
  if (last_two_swapped) {
    const int64_t M = os[nd - 1], N = os[nd - 2], batch = out.numel() / (M * N);
    constexpr int64_t kTile = 32;
    const int64_t row_tiles = (M + kTile - 1) / kTile;
    dispatch_bits(x.dtype(), "permute", [&](auto tag) {
      using E = decltype(tag);
      const E* px = static_cast<const E*>(x.raw_data());
      E* po = static_cast<E*>(out.raw_data());
      // One task = one band of kTile input rows of one matrix; it writes kTile output columns.
      parallel_for(batch * row_tiles, grain_for(kTile * N), [&](int64_t b, int64_t e) {
        for (int64_t task = b; task < e; ++task) {
          int64_t mat = task / row_tiles, m0 = (task % row_tiles) * kTile, m1 = std::min(M, m0 + kTile);
          const E* src = px + mat * M * N;
          E* dst = po + mat * M * N;
          for (int64_t n0 = 0; n0 < N; n0 += kTile) {
            int64_t n1 = std::min(N, n0 + kTile);
            for (int64_t m = m0; m < m1; ++m)
              for (int64_t n = n0; n < n1; ++n) dst[n * M + m] = src[m * N + n];
          }
        }
      });
    });
    return;
  }
  std::vector<int64_t> xst = row_major_strides(x.shape()), st(nd);
  for (int d = 0; d < nd; ++d) st[d] = xst[perm[d]];  // input stride of output dim d
  // When the last axis stays last, whole rows are contiguous on both sides.
  const bool rows_contiguous = perm[nd - 1] == nd - 1;
  const int walk = rows_contiguous ? nd - 1 : nd;  // dims walked by the odometer
  const int64_t row = rows_contiguous ? os[nd - 1] : 1;
  const int64_t rows = out.numel() / row;
  dispatch_bits(x.dtype(), "permute", [&](auto tag) {
    using E = decltype(tag);
    const E* px = static_cast<const E*>(x.raw_data());
    E* po = static_cast<E*>(out.raw_data());
    parallel_for(rows, grain_for(row), [&](int64_t b, int64_t e) {
      std::vector<int64_t> idx(walk);
      int64_t rem = b, off = 0;
      for (int d = walk - 1; d >= 0; --d) {
        idx[d] = rem % os[d];
        rem /= os[d];
        off += idx[d] * st[d];
      }
      for (int64_t r = b; r < e; ++r) {
        if (rows_contiguous) {
          std::copy_n(px + off, row, po + r * row);
        } else {
          po[r] = px[off];
        }
        for (int d = walk - 1; d >= 0; --d) {
          off += st[d];
          if (++idx[d] < os[d]) break;
          off -= st[d] * os[d];
          idx[d] = 0;
        }
      }
    });
  });
}

void copy_slab(const Tensor& src, int64_t src_n, int64_t src_start, Tensor& dst, int64_t dst_n,
               int64_t dst_start, int64_t len, int64_t outer, int64_t inner) {
  const size_t es = dtype_size(src.dtype());
  const char* ps = static_cast<const char*>(src.raw_data());
  char* pd = static_cast<char*>(dst.raw_data());
  const int64_t chunk = len * inner;  // elements per outer index
  parallel_for(outer, grain_for(chunk), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o)
      std::memcpy(pd + ((o * dst_n + dst_start) * inner) * es, ps + ((o * src_n + src_start) * inner) * es,
                  chunk * es);
  });
}

void index_select(const Tensor& x, const AxisSplit& s, const Tensor& idx, Tensor& out) {
  const size_t es = dtype_size(x.dtype());
  const char* px = static_cast<const char*>(x.raw_data());
  char* po = static_cast<char*>(out.raw_data());
  const int64_t* pi = idx.data<int64_t>();
  const int64_t P = idx.numel(), inner = s.inner, n = s.n;
  parallel_for(s.outer * P, grain_for(inner), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {  // output row r = (o, p)
      int64_t o = r / P, p = r % P;
      std::memcpy(po + r * inner * es, px + (o * n + pi[p]) * inner * es, inner * es);
    }
  });
}

void index_select_backward(const Tensor& g, const AxisSplit& s, const Tensor& idx, Tensor& dx) {
  const int64_t* pi = idx.data<int64_t>();
  const int64_t P = idx.numel(), n = s.n, inner = s.inner;
  // Positions grouped by target row, increasing p within each (a stable counting sort).
  std::vector<int64_t> start(n + 1, 0), order(P);
  for (int64_t p = 0; p < P; ++p) ++start[pi[p] + 1];
  for (int64_t r = 0; r < n; ++r) start[r + 1] += start[r];
  {
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (int64_t p = 0; p < P; ++p) order[fill[pi[p]]++] = p;
  }
  dispatch_floating(g.dtype(), "index_select", [&](auto tag) {
    using T = decltype(tag);
    const T* pg = g.data<T>();
    T* pd = dx.data<T>();
    // Each dx row (o, r) is summed by one thread: deterministic for any thread count.
    parallel_for(s.outer * n, grain_for(inner * std::max<int64_t>(1, P / std::max<int64_t>(n, 1))),
                 [&](int64_t b, int64_t e) {
                   for (int64_t rr = b; rr < e; ++rr) {
                     int64_t o = rr / n, r = rr % n;
                     T* dst = pd + rr * inner;
                     std::fill_n(dst, inner, T(0));
                     for (int64_t q = start[r]; q < start[r + 1]; ++q) {
                       const T* src = pg + (o * P + order[q]) * inner;
                       for (int64_t i = 0; i < inner; ++i) dst[i] += src[i];
                     }
                   }
                 });
  });
}

namespace {

// Where gather's index positions land in x: idx is viewed as [outer, P, inner] around the
// axis; x offset of (o, p, i) = base_o[o] + idx[o, p, i] · axis_stride + base_i[i].
struct GatherPlan {
  int64_t outer, P, inner, axis_stride;
  std::vector<int64_t> base_o, base_i;
};

GatherPlan plan_gather(const Shape& xs, const Shape& is, int axis) {
  GatherPlan g;
  AxisSplit sp = split_at_axis(is, axis);
  g.outer = sp.outer, g.P = sp.n, g.inner = sp.inner;
  std::vector<int64_t> xst = row_major_strides(xs);
  g.axis_stride = xst[axis];
  auto offsets = [&](int d0, int d1, int64_t count) {  // x offsets of all coords over dims [d0, d1)
    std::vector<int64_t> out(count);
    for (int64_t j = 0; j < count; ++j) {
      int64_t rem = j, off = 0;
      for (int d = d1 - 1; d >= d0; --d) {
        off += (rem % is[d]) * xst[d];
        rem /= is[d];
      }
      out[j] = off;
    }
    return out;
  };
  g.base_o = offsets(0, axis, g.outer);
  g.base_i = offsets(axis + 1, static_cast<int>(is.size()), g.inner);
  return g;
}

}  // namespace

void gather(const Tensor& x, int axis, const Tensor& idx, Tensor& out) {
  GatherPlan gp = plan_gather(x.shape(), idx.shape(), axis);
  const int64_t* pi = idx.data<int64_t>();
  dispatch_bits(x.dtype(), "gather", [&](auto tag) {
    using E = decltype(tag);
    const E* px = static_cast<const E*>(x.raw_data());
    E* po = static_cast<E*>(out.raw_data());
    parallel_for(gp.outer * gp.P, grain_for(gp.inner), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {  // row r = (o, p) of idx
        int64_t o = r / gp.P;
        const int64_t* ir = pi + r * gp.inner;
        E* orow = po + r * gp.inner;
        for (int64_t i = 0; i < gp.inner; ++i) orow[i] = px[gp.base_o[o] + ir[i] * gp.axis_stride + gp.base_i[i]];
      }
    });
  });
}

void gather_backward(const Tensor& g, int axis, const Tensor& idx, Tensor& dx) {
  GatherPlan gp = plan_gather(dx.shape(), idx.shape(), axis);
  const int64_t* pi = idx.data<int64_t>();
  dispatch_floating(g.dtype(), "gather", [&](auto tag) {
    using T = decltype(tag);
    const T* pg = g.data<T>();
    T* pd = dx.data<T>();
    parallel_for(dx.numel(), 1 << 15, [&](int64_t b, int64_t e) { std::fill(pd + b, pd + e, T(0)); });
    // An idx position (o, p, i) only reaches x elements with its own (o, i) coordinates, so
    // splitting the (o, i) grid between threads gives each dx element exactly one writer.
    parallel_for(gp.outer * gp.inner, grain_for(gp.P), [&](int64_t b, int64_t e) {
      for_segments(b, e, gp.inner, [&](int64_t o, int64_t i0, int64_t i1) {
        for (int64_t p = 0; p < gp.P; ++p) {
          int64_t r = (o * gp.P + p) * gp.inner;
          for (int64_t i = i0; i < i1; ++i)
            pd[gp.base_o[o] + pi[r + i] * gp.axis_stride + gp.base_i[i]] += pg[r + i];
        }
      });
    });
  });
}

}  // namespace sdnc::cpu
