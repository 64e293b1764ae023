#include "sdnc/backend/cpu/unary.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "sdnc/backend/cpu/simd_math.h"
#include "sdnc/core/parallel.h"

namespace sdnc::cpu {

namespace {

constexpr int64_t kGrain = 1 << 13;

template <class T, class F>
void map1(const Tensor& x, Tensor& out, F f) {
  const T* px = x.data<T>();
  T* po = out.data<T>();
  parallel_for(x.numel(), kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) po[i] = f(px[i]);
  });
}

// dx[i] = f(saved[i], g[i])
template <class T, class F>
void map2(const Tensor& saved, const Tensor& g, Tensor& dx, F f) {
  const T* ps = saved.data<T>();
  const T* pg = g.data<T>();
  T* pd = dx.data<T>();
  parallel_for(g.numel(), kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) pd[i] = f(ps[i], pg[i]);
  });
}

template <class T> T stable_sigmoid(T x) {
  T e = std::exp(-std::fabs(x));  // in (0, 1]: never overflows
  T r = T(1) / (T(1) + e);
  return x >= T(0) ? r : e * r;
}

// GELU constants: 1/√2, 1/√(2π), √(2/π), and the cubic coefficient of the tanh form.
constexpr double kSqrt1_2 = 0.70710678118654752440;
constexpr double kInvSqrt2Pi = 0.39894228040143267794;
constexpr double kSqrt2OverPi = 0.79788456080286535588;
constexpr double kGeluCubic = 0.044715;

// F32 tanh-GELU through e^x written so that the compiler vectorises the loop (libm's tanhf
// is a scalar call and was ~40 % of a GPT training step). Uses ½(1 + tanh u) = σ(2u):
//   y = x·σ(2u),  dy/dx = σ(2u) + 2x·σ(2u)(1 − σ(2u))·√(2/π)(1 + 3·0.044715 x²),
//   u = √(2/π)(x + 0.044715 x³).
// exp_f32 is in simd_math.h. F64 keeps the libm path.
void gelu_tanh_forward_f32(const float* px, float* py, int64_t n) {
  parallel_for(n, 1 << 13, [&](int64_t b, int64_t e) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) {
      float x = px[i];
      float u = float(kSqrt2OverPi) * (x + float(kGeluCubic) * x * x * x);
      py[i] = x / (1.0f + exp_f32(-2.0f * u));
    }
  });
}

void gelu_erf_forward_f32(const float* px, float* py, int64_t n) {
  parallel_for(n, 1 << 13, [&](int64_t b, int64_t e) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) py[i] = 0.5f * px[i] * erfc_f32(-px[i] * float(kSqrt1_2));
  });
}

void gelu_tanh_backward_f32(const float* px, const float* pg, float* pd, int64_t n) {
  parallel_for(n, 1 << 13, [&](int64_t b, int64_t e) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) {
      float x = px[i];
      float u = float(kSqrt2OverPi) * (x + float(kGeluCubic) * x * x * x);
      float s = 1.0f / (1.0f + exp_f32(-2.0f * u));
      float ds = s * (1.0f - s);  // = ¼(1 − tanh² u); 0 where saturated, even when x² overflows
      float slope = 2.0f * x * ds * float(kSqrt2OverPi) * (1.0f + float(3 * kGeluCubic) * x * x);
      pd[i] = pg[i] * (s + (ds == 0.0f ? 0.0f : slope));
    }
  });
}

template <class T>
void forward_typed(UnaryOp op, const Tensor& x, Tensor& out, const UnaryParams& p) {
  switch (op) {
    case UnaryOp::Neg: map1<T>(x, out, [](T v) { return -v; }); break;
    case UnaryOp::Exp: map1<T>(x, out, [](T v) { return std::exp(v); }); break;
    case UnaryOp::Log: map1<T>(x, out, [](T v) { return std::log(v); }); break;
    case UnaryOp::Sqrt: map1<T>(x, out, [](T v) { return std::sqrt(v); }); break;
    case UnaryOp::Tanh: map1<T>(x, out, [](T v) { return std::tanh(v); }); break;
    case UnaryOp::Sigmoid: map1<T>(x, out, [](T v) { return stable_sigmoid(v); }); break;
    case UnaryOp::Softplus:
      map1<T>(x, out, [](T v) { return std::max(v, T(0)) + std::log1p(std::exp(-std::fabs(v))); });
      break;
    case UnaryOp::Relu: map1<T>(x, out, [](T v) { return std::max(v, T(0)); }); break;  // keeps NaN
    case UnaryOp::Gelu:
      // ½ x erfc(-x/√2) = x Φ(x), accurate also in the far negative tail (F32: the
      // vectorised erfc_f32 of simd_math.h; libm's erfcf was ~20 % of a MiniLM batch).
      if constexpr (std::is_same_v<T, float>) {
        gelu_erf_forward_f32(x.data<float>(), out.data<float>(), x.numel());
        break;
      }
      map1<T>(x, out, [](T v) { return T(0.5) * v * std::erfc(-v * T(kSqrt1_2)); });
      break;
    case UnaryOp::GeluTanh:
      if constexpr (std::is_same_v<T, float>) {
        gelu_tanh_forward_f32(x.data<float>(), out.data<float>(), x.numel());
        break;
      }
      map1<T>(x, out, [](T v) {
        T inner = T(kSqrt2OverPi) * (v + T(kGeluCubic) * v * v * v);
        return T(0.5) * v * (T(1) + std::tanh(inner));
      });
      break;
    case UnaryOp::Clamp: {
      T lo = static_cast<T>(p.lo), hi = static_cast<T>(p.hi);
      map1<T>(x, out, [lo, hi](T v) { return std::min(std::max(v, lo), hi); });  // keeps NaN
      break;
    }
  }
}

template <class T>
void backward_typed(UnaryOp op, const Tensor& s, const Tensor& g, Tensor& dx, const UnaryParams& p) {
  switch (op) {
    case UnaryOp::Neg: map1<T>(g, dx, [](T gv) { return -gv; }); break;
    case UnaryOp::Exp: map2<T>(s, g, dx, [](T y, T gv) { return gv * y; }); break;
    case UnaryOp::Log: map2<T>(s, g, dx, [](T x, T gv) { return gv / x; }); break;
    case UnaryOp::Sqrt: map2<T>(s, g, dx, [](T y, T gv) { return gv / (T(2) * y); }); break;
    case UnaryOp::Tanh: map2<T>(s, g, dx, [](T y, T gv) { return gv * (T(1) - y * y); }); break;
    case UnaryOp::Sigmoid: map2<T>(s, g, dx, [](T y, T gv) { return gv * y * (T(1) - y); }); break;
    case UnaryOp::Softplus: map2<T>(s, g, dx, [](T x, T gv) { return gv * stable_sigmoid(x); }); break;
    case UnaryOp::Relu: map2<T>(s, g, dx, [](T y, T gv) { return y > T(0) ? gv : T(0); }); break;
    case UnaryOp::Gelu:
      // d/dx x Φ(x) = Φ(x) + x φ(x)
      map2<T>(s, g, dx, [](T x, T gv) {
        T cdf = T(0.5) * std::erfc(-x * T(kSqrt1_2));
        T pdf = T(kInvSqrt2Pi) * std::exp(T(-0.5) * x * x);
        return gv * (cdf + x * pdf);
      });
      break;
    case UnaryOp::GeluTanh:
      if constexpr (std::is_same_v<T, float>) {
        gelu_tanh_backward_f32(s.data<float>(), g.data<float>(), dx.data<float>(), g.numel());
        break;
      }
      // d/dx ½ x (1 + t) = ½ (1 + t) + ½ x (1 - t²) √(2/π) (1 + 3·0.044715 x²), t = tanh(inner).
      // Where the tanh has saturated (1 - t² = 0) the second term is 0, even when x² overflows.
      map2<T>(s, g, dx, [](T x, T gv) {
        T inner = T(kSqrt2OverPi) * (x + T(kGeluCubic) * x * x * x);
        T t = std::tanh(inner);
        T sech2 = T(1) - t * t;
        T slope = sech2 == T(0) ? T(0)
                                : T(0.5) * x * sech2 * T(kSqrt2OverPi) * (T(1) + T(3 * kGeluCubic) * x * x);
        return gv * (T(0.5) * (T(1) + t) + slope);
      });
      break;
    case UnaryOp::Clamp: {
      T lo = static_cast<T>(p.lo), hi = static_cast<T>(p.hi);
      map2<T>(s, g, dx, [lo, hi](T x, T gv) { return (x >= lo && x <= hi) ? gv : T(0); });
      break;
    }
  }
}

}  // namespace

UnarySaves unary_saves(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg: return UnarySaves::Nothing;
    case UnaryOp::Exp:
    case UnaryOp::Sqrt:
    case UnaryOp::Tanh:
    case UnaryOp::Sigmoid:
    case UnaryOp::Relu: return UnarySaves::Output;
    case UnaryOp::Log:
    case UnaryOp::Softplus:
    case UnaryOp::Gelu:
    case UnaryOp::GeluTanh:
    case UnaryOp::Clamp: return UnarySaves::Input;
  }
  return UnarySaves::Input;
}

void unary_forward(UnaryOp op, const Tensor& x, Tensor& out, const UnaryParams& p) {
  dispatch_floating(x.dtype(), "unary", [&](auto tag) { forward_typed<decltype(tag)>(op, x, out, p); });
}

void unary_backward(UnaryOp op, const Tensor& saved, const Tensor& g, Tensor& dx, const UnaryParams& p) {
  dispatch_floating(g.dtype(), "unary", [&](auto tag) { backward_typed<decltype(tag)>(op, saved, g, dx, p); });
}

}  // namespace sdnc::cpu
