#include "sdnc/backend/cpu/lstm_cell.h"

#include <cmath>
#include <type_traits>

#include "sdnc/backend/cpu/simd_math.h"

#include "sdnc/core/parallel.h"

namespace sdnc::cpu {

namespace {
// σ and tanh through exp_fast: for F32 a branch-free polynomial e^x, so the row loop below
// vectorises (libm's expf/tanhf are scalar calls: they were ~80 % of the cell at the DNC's
// D1/D2 shapes); for F64 libm. tanh(x) = 1 − 2/(1 + e^{2x}) (absolute error ~1e-7 in F32).
template <class T>
inline T sigmoid(T x) {
  return T(1) / (T(1) + exp_fast(-x));
}
template <class T>
inline T tanh_fast(T x) {
  if constexpr (std::is_same_v<T, double>) return std::tanh(x);
  else return T(1) - T(2) / (T(1) + exp_fast(T(2) * x));
}
}  // namespace

void lstm_cell_pointwise(Tensor& gates, const Tensor& c, double forget_bias, Tensor& h_next, Tensor& c_next,
                         Tensor& tanh_c) {
  int64_t B = c.size(0), Hd = c.size(1);
  dispatch_floating(c.dtype(), "lstm_cell", [&](auto tag) {
    using T = decltype(tag);
    T* pg = gates.data<T>();
    const T* pc = c.data<T>();
    T* ph = h_next.data<T>();
    T* pcn = c_next.data<T>();
    T* ptc = tanh_c.data<T>();
    T fb = static_cast<T>(forget_bias);
    parallel_for(B, std::max<int64_t>(1, 1024 / Hd), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        T* gi = pg + r * 4 * Hd;
        T *gf = gi + Hd, *gg = gi + 2 * Hd, *go = gi + 3 * Hd;
        const T* cr = pc + r * Hd;
        T *hr = ph + r * Hd, *cnr = pcn + r * Hd, *tcr = ptc + r * Hd;
#pragma omp simd
        for (int64_t j = 0; j < Hd; ++j) {
          T i = sigmoid(gi[j]), f = sigmoid(gf[j] + fb), g = tanh_fast(gg[j]), o = sigmoid(go[j]);
          T cn = f * cr[j] + i * g;
          T tc = tanh_fast(cn);
          gi[j] = i, gf[j] = f, gg[j] = g, go[j] = o;
          cnr[j] = cn;
          tcr[j] = tc;
          hr[j] = o * tc;
        }
      }
    });
  });
}

void lstm_cell_pointwise_backward(const Tensor& gates, const Tensor& c, const Tensor& tanh_c,
                                  const Tensor& dh_next, const Tensor& dc_next, Tensor& dgates, Tensor& dc) {
  int64_t B = c.size(0), Hd = c.size(1);
  dispatch_floating(c.dtype(), "lstm_cell", [&](auto tag) {
    using T = decltype(tag);
    const T* pg = gates.data<T>();
    const T* pc = c.data<T>();
    const T* ptc = tanh_c.data<T>();
    const T* pdh = dh_next.data<T>();
    const T* pdcn = dc_next.data<T>();
    T* pdg = dgates.data<T>();
    T* pdc = dc.defined() ? dc.data<T>() : nullptr;
    parallel_for(B, std::max<int64_t>(1, 1024 / Hd), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const T* gi = pg + r * 4 * Hd;
        const T *gf = gi + Hd, *gg = gi + 2 * Hd, *go = gi + 3 * Hd;
        T* di = pdg + r * 4 * Hd;
        T *df = di + Hd, *dg = di + 2 * Hd, *dout = di + 3 * Hd;
        const T *cr = pc + r * Hd, *tcr = ptc + r * Hd, *dhr = pdh + r * Hd, *dcnr = pdcn + r * Hd;
#pragma omp simd
        for (int64_t j = 0; j < Hd; ++j) {
          T i = gi[j], f = gf[j], g = gg[j], o = go[j], tc = tcr[j];
          // Total gradient reaching c_next: directly, and through h_next = o·tanh(c_next).
          T dcn = dcnr[j] + dhr[j] * o * (T(1) - tc * tc);
          di[j] = dcn * g * i * (T(1) - i);
          df[j] = dcn * cr[j] * f * (T(1) - f);
          dg[j] = dcn * i * (T(1) - g * g);
          dout[j] = dhr[j] * tc * o * (T(1) - o);
          if (pdc) pdc[r * Hd + j] = dcn * f;
        }
      }
    });
  });
}

}  // namespace sdnc::cpu
