#include "sdnc/backend/cpu/gemv.h"

#include <algorithm>
#include <cmath>

#include "sdnc/backend/cpu/simd_math.h"

namespace sdnc::cpu {

namespace {

// Output columns per block: the M·kCols partial sums stay in L1 while W streams past.
constexpr int64_t kCols = 256;

// The same activation formulas as ops/unary's kernels (backend/cpu/unary.cpp).
constexpr float kSqrt1_2 = 0.70710678118654752440f;
constexpr float kSqrt2OverPi = 0.79788456080286535588f;
constexpr float kGeluCubic = 0.044715f;

}  // namespace

void finish_row(RowEpilogue e, const float* s, const float* bias, float* y, int64_t n) {
  switch (e) {
    case RowEpilogue::Store:
#pragma omp simd
      for (int64_t c = 0; c < n; ++c) y[c] = s[c] + (bias ? bias[c] : 0.0f);
      break;
    case RowEpilogue::Accumulate:
#pragma omp simd
      for (int64_t c = 0; c < n; ++c) y[c] += s[c] + (bias ? bias[c] : 0.0f);
      break;
    case RowEpilogue::Relu:
#pragma omp simd
      for (int64_t c = 0; c < n; ++c) y[c] = std::max(s[c] + (bias ? bias[c] : 0.0f), 0.0f);
      break;
    case RowEpilogue::Gelu:
      for (int64_t c = 0; c < n; ++c) {
        float v = s[c] + (bias ? bias[c] : 0.0f);
        y[c] = 0.5f * v * std::erfc(-v * kSqrt1_2);
      }
      break;
    case RowEpilogue::GeluTanh:
#pragma omp simd
      for (int64_t c = 0; c < n; ++c) {
        float v = s[c] + (bias ? bias[c] : 0.0f);
        float u = kSqrt2OverPi * (v + kGeluCubic * v * v * v);
        y[c] = v / (1.0f + exp_f32(-2.0f * u));
      }
      break;
  }
}


int64_t column_split(int64_t N, int64_t parts, int64_t p) {
  int64_t lines = (N + 15) / 16;
  return std::min(N, lines * p / parts * 16);
}

void rows_times_weight(int64_t M, int64_t K, int64_t N, const float* x, int64_t ldx, const float* W,
                       const float* bias, float* y, int64_t ldy, int64_t o0, int64_t o1, RowEpilogue epilogue) {
  if (M > kGemvMaxRows) {  // more rows than the partial sums hold: in groups (correct, not fast)
    for (int64_t m0 = 0; m0 < M; m0 += kGemvMaxRows)
      rows_times_weight(std::min(kGemvMaxRows, M - m0), K, N, x + m0 * ldx, ldx, W, bias, y + m0 * ldy, ldy, o0, o1,
                        epilogue);
    return;
  }
  alignas(64) float acc[kGemvMaxRows * kCols];
  for (int64_t c0 = o0; c0 < o1; c0 += kCols) {
    const int64_t w = std::min(kCols, o1 - c0);
    std::fill(acc, acc + M * kCols, 0.0f);
    // Four weight rows per pass: each partial sum is loaded and stored once per four FMAs.
    int64_t i = 0;
    for (; i + 4 <= K; i += 4) {
      const float* w0 = W + i * N + c0;
      const float *w1 = w0 + N, *w2 = w1 + N, *w3 = w2 + N;
      for (int64_t m = 0; m < M; ++m) {
        const float* xm = x + m * ldx + i;
        const float a0 = xm[0], a1 = xm[1], a2 = xm[2], a3 = xm[3];
        float* s = acc + m * kCols;
#pragma omp simd aligned(s : 64)
        for (int64_t c = 0; c < w; ++c) s[c] += a0 * w0[c] + a1 * w1[c] + a2 * w2[c] + a3 * w3[c];
      }
    }
    for (; i < K; ++i) {
      const float* w0 = W + i * N + c0;
      for (int64_t m = 0; m < M; ++m) {
        const float a0 = x[m * ldx + i];
        float* s = acc + m * kCols;
#pragma omp simd aligned(s : 64)
        for (int64_t c = 0; c < w; ++c) s[c] += a0 * w0[c];
      }
    }
    for (int64_t m = 0; m < M; ++m)
      finish_row(epilogue, acc + m * kCols, bias ? bias + c0 : nullptr, y + m * ldy + c0, w);
  }
}

void rows_times_weight_t(int64_t M, int64_t K, const float* x, int64_t ldx, const float* W, const float* bias,
                         float* y, int64_t ldy, int64_t o0, int64_t o1, RowEpilogue epilogue) {
  alignas(64) float acc[kCols];
  for (int64_t c0 = o0; c0 < o1; c0 += kCols) {
    const int64_t w = std::min(kCols, o1 - c0);
    for (int64_t m = 0; m < M; ++m) {
      const float* xm = x + m * ldx;
      float* s = acc;
      // Four dot products at once: four independent reduction chains.
      int64_t c = 0;
      for (; c + 4 <= w; c += 4) {
        const float* r0 = W + (c0 + c) * K;
        const float *r1 = r0 + K, *r2 = r1 + K, *r3 = r2 + K;
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
        for (int64_t i = 0; i < K; ++i) {
          s0 += xm[i] * r0[i];
          s1 += xm[i] * r1[i];
          s2 += xm[i] * r2[i];
          s3 += xm[i] * r3[i];
        }
        s[c] = s0, s[c + 1] = s1, s[c + 2] = s2, s[c + 3] = s3;
      }
      for (; c < w; ++c) {
        const float* r0 = W + (c0 + c) * K;
        float s0 = 0;
#pragma omp simd reduction(+ : s0)
        for (int64_t i = 0; i < K; ++i) s0 += xm[i] * r0[i];
        s[c] = s0;
      }
      finish_row(epilogue, s, bias ? bias + c0 : nullptr, y + m * ldy + c0, w);
    }
  }
}

}  // namespace sdnc::cpu
