#include "sdnc/backend/cpu/layer_norm.h"

#include <cmath>

#include "sdnc/core/parallel.h"

namespace sdnc::cpu {

void layer_norm_forward(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps, Tensor& y,
                        Tensor& mean, Tensor& rstd) {
  int64_t D = x.size(-1), R = x.numel() / D;
  dispatch_floating(x.dtype(), "layer_norm", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    const T* pw = weight.defined() ? weight.data<T>() : nullptr;
    const T* pb = bias.defined() ? bias.data<T>() : nullptr;
    T* py = y.data<T>();
    T* pm = mean.data<T>();
    T* pr = rstd.data<T>();
    parallel_for(R, std::max<int64_t>(1, 4096 / D), [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const T* xr = px + r * D;
        T* yr = py + r * D;
        // Two passes (mean, then centred squares) in double: stable for large offsets.
        // The sums run in SIMD lanes (a fixed order per row, independent of the threads).
        double s = 0;
#pragma omp simd reduction(+ : s)
        for (int64_t j = 0; j < D; ++j) s += xr[j];
        double mu = s / D, ss = 0;
#pragma omp simd reduction(+ : ss)
        for (int64_t j = 0; j < D; ++j) {
          double d = xr[j] - mu;
          ss += d * d;
        }
        double rs = 1.0 / std::sqrt(ss / D + eps);
        pm[r] = static_cast<T>(mu);
        pr[r] = static_cast<T>(rs);
        T m = static_cast<T>(mu), q = static_cast<T>(rs);
        if (pw && pb) {
          for (int64_t j = 0; j < D; ++j) yr[j] = (xr[j] - m) * q * pw[j] + pb[j];
        } else if (pw) {
          for (int64_t j = 0; j < D; ++j) yr[j] = (xr[j] - m) * q * pw[j];
        } else if (pb) {
          for (int64_t j = 0; j < D; ++j) yr[j] = (xr[j] - m) * q + pb[j];
        } else {
          for (int64_t j = 0; j < D; ++j) yr[j] = (xr[j] - m) * q;
        }
      }
    });
  });
}

void layer_norm_backward(const Tensor& g, const Tensor& x, const Tensor& weight, const Tensor& mean,
                         const Tensor& rstd, Tensor& dx, Tensor& dweight, Tensor& dbias) {
  int64_t D = x.size(-1), R = x.numel() / D;
  dispatch_floating(x.dtype(), "layer_norm", [&](auto tag) {
    using T = decltype(tag);
    const T* pg = g.data<T>();
    const T* px = x.data<T>();
    const T* pw = weight.defined() ? weight.data<T>() : nullptr;
    const T* pm = mean.data<T>();
    const T* pr = rstd.data<T>();
    // dx = rstd · (gw - mean(gw) - x̂ · mean(gw · x̂)), gw = g · weight, x̂ = (x - mean) · rstd.
    if (dx.defined()) {
      T* pdx = dx.data<T>();
      parallel_for(R, std::max<int64_t>(1, 2048 / D), [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) {
          const T* gr = pg + r * D;
          const T* xr = px + r * D;
          T* dr = pdx + r * D;
          T m = pm[r], q = pr[r];
          double sum_gw = 0, sum_gwx = 0;
#pragma omp simd reduction(+ : sum_gw, sum_gwx)
          for (int64_t j = 0; j < D; ++j) {
            T gw = pw ? gr[j] * pw[j] : gr[j];
            sum_gw += gw;
            sum_gwx += gw * ((xr[j] - m) * q);
          }
          T a = static_cast<T>(sum_gw / D), c = static_cast<T>(sum_gwx / D);
          for (int64_t j = 0; j < D; ++j) {
            T gw = pw ? gr[j] * pw[j] : gr[j];
            dr[j] = q * (gw - a - (xr[j] - m) * q * c);
          }
        }
      });
    }
    // dweight = Σ_rows g · x̂, dbias = Σ_rows g; each thread owns a range of columns.
    T* pdw = dweight.defined() ? dweight.data<T>() : nullptr;
    T* pdb = dbias.defined() ? dbias.data<T>() : nullptr;
    if (!pdw && !pdb) return;
    parallel_for(D, 64, [&](int64_t b, int64_t e) {
      for (int64_t j = b; j < e; ++j) {
        if (pdw) pdw[j] = 0;
        if (pdb) pdb[j] = 0;
      }
      for (int64_t r = 0; r < R; ++r) {
        const T* gr = pg + r * D;
        const T* xr = px + r * D;
        T m = pm[r], q = pr[r];
        if (pdw)
          for (int64_t j = b; j < e; ++j) pdw[j] += gr[j] * ((xr[j] - m) * q);
        if (pdb)
          for (int64_t j = b; j < e; ++j) pdb[j] += gr[j];
      }
    });
  });
}

}  // namespace sdnc::cpu

namespace sdnc::cpu {

void layer_norm_row(const float* x, const float* weight, const float* bias, int64_t D, double eps, float* y) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < D; ++j) s += x[j];
  double mu = s / D, ss = 0;
#pragma omp simd reduction(+ : ss)
  for (int64_t j = 0; j < D; ++j) {
    double d = x[j] - mu;
    ss += d * d;
  }
  const float m = static_cast<float>(mu), q = static_cast<float>(1.0 / std::sqrt(ss / D + eps));
#pragma omp simd
  for (int64_t j = 0; j < D; ++j)
    y[j] = (x[j] - m) * q * (weight ? weight[j] : 1.0f) + (bias ? bias[j] : 0.0f);
}

}  // namespace sdnc::cpu
