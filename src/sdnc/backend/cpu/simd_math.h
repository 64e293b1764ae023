// backend/cpu/simd_math.h — elementwise math written so that loops calling it vectorise
// (libm's expf/tanhf are scalar calls). F32 only; F64 kernels keep libm.
#pragma once
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace sdnc::cpu {

// e^x in F32: Cephes' range reduction and degree-6 polynomial (≈1 ulp on [-87.3, 88.7]),
// +inf above that range, 0 below it, NaN kept. Branch-free, so `#pragma omp simd` loops
// around it vectorise.
inline float exp_f32(float x) {
  const float hi = 88.72283f, lo = -87.33654f;
  float xc = std::min(std::max(x, lo), hi);
  const float magic = 12582912.0f;  // 1.5·2^23: adding it rounds to an integer
  float kf = xc * 1.44269504088896341f + magic;
  int32_t k = std::bit_cast<int32_t>(kf) - std::bit_cast<int32_t>(magic);
  float n = kf - magic;
  float r = xc - n * 0.693359375f;  // ln 2 split in two for an exact product
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  float y = p * std::bit_cast<float>((k + 127) << 23);
  y = x > hi ? std::numeric_limits<float>::infinity() : y;
  y = x < lo ? 0.0f : y;
  return x != x ? x : y;
}

// erfc(x) in F32, vectorisable: the Chebyshev-fitted form of Numerical Recipes' erfcc,
//   t = 1/(1 + |x|/2),  erfc(|x|) = t·exp(−x² − 1.26551223 + t·P(t)),  erfc(−x) = 2 − erfc(x),
// fractional error < 1.2e-7 in exact arithmetic; with F32 and exp_f32 the unit test measures
// ≤ 1e-6 relative against libm in double (tests/unit/test_unary.cpp). NaN kept; erfc(±inf) = 0 / 2.
inline float erfc_f32(float x) {
  const float z = std::fabs(x), t = 1.0f / (1.0f + 0.5f * z);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  const float tail = t * exp_f32(p - z * z);
  return x >= 0.0f ? tail : (x < 0.0f ? 2.0f - tail : x);
}

// A softmax's numerators in place and their sum: s[j] ← e^(s[j] − max_k s[k]) for j < n (n ≥ 1),
// returns Σ_j s[j] (and the max in *max_out if given). The shift keeps every power ≤ 1; the
// caller divides by the sum when it likes.
inline float exp_shifted_in_place(float* s, int64_t n, float* max_out = nullptr) {
  float mx = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : mx)
  for (int64_t j = 0; j < n; ++j) mx = s[j] > mx ? s[j] : mx;
  if (max_out) *max_out = mx;
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < n; ++j) {
    const float e = exp_f32(s[j] - mx);
    s[j] = e;
    sum += e;
  }
  return sum;
}

// exp for kernels templated on the floating type: the vectorisable form for F32.
inline float exp_fast(float x) { return exp_f32(x); }
inline double exp_fast(double x) { return std::exp(x); }

}  // namespace sdnc::cpu
