#include "sdnc/backend/cpu/gemv_lowp.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "sdnc/core/error.h"

namespace sdnc::cpu {

namespace {

// Output columns per block (Conv1D): the partial sums stay in L1 while W streams past.
constexpr int64_t kCols = 256;

inline float widen(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }
inline float widen(int8_t q) { return static_cast<float>(q); }

// Round to nearest even on the 16 bits dropped (NaN stays NaN).
uint16_t to_bf16(float f) {
  uint32_t u = std::bit_cast<uint32_t>(f);
  if (std::isnan(f)) return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7fff + ((u >> 16) & 1);
  return static_cast<uint16_t>(u >> 16);
}

#if defined(__AVX512F__)
// Sixteen weights from p widened to F32 (the compiler's own vectorisation of widen() takes a
// two-step sign extension with lane extracts for int8: ~2× slower than this).
inline __m512 widen16(const int8_t* p) {
  return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
inline __m512 widen16(const uint16_t* p) {
  const __m512i u = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(u, 16));
}
#endif

// Conv1D, W [K, N] of T: s[c] = Σ_i x[i] · W[i, c0 + c], four weight rows per pass.
template <class T>
void conv1d_block(const float* x, const T* W, int64_t K, int64_t N, int64_t c0, int64_t w, float* s) {
  std::fill(s, s + w, 0.0f);
  int64_t i = 0;
  for (; i + 4 <= K; i += 4) {
    const T* w0 = W + i * N + c0;
    const T *w1 = w0 + N, *w2 = w1 + N, *w3 = w2 + N;
    const float a0 = x[i], a1 = x[i + 1], a2 = x[i + 2], a3 = x[i + 3];
    int64_t c = 0;
#if defined(__AVX512F__)
    const __m512 b0 = _mm512_set1_ps(a0), b1 = _mm512_set1_ps(a1), b2 = _mm512_set1_ps(a2), b3 = _mm512_set1_ps(a3);
    for (; c + 16 <= w; c += 16) {  // the loop below's terms, in its order
      __m512 t = _mm512_mul_ps(b0, widen16(w0 + c));
      t = _mm512_fmadd_ps(b1, widen16(w1 + c), t);
      t = _mm512_fmadd_ps(b2, widen16(w2 + c), t);
      t = _mm512_fmadd_ps(b3, widen16(w3 + c), t);
      _mm512_storeu_ps(s + c, _mm512_add_ps(_mm512_loadu_ps(s + c), t));
    }
#endif
    for (; c < w; ++c) s[c] += a0 * widen(w0[c]) + a1 * widen(w1[c]) + a2 * widen(w2[c]) + a3 * widen(w3[c]);
  }
  for (; i < K; ++i) {
    const T* w0 = W + i * N + c0;
    const float a0 = x[i];
#pragma omp simd
    for (int64_t c = 0; c < w; ++c) s[c] += a0 * widen(w0[c]);
  }
}

// Linear, W [N, K] of T: s[c] = x · W[c0 + c, :], one row at a time (one stream).
template <class T>
void linear_block(const float* x, const T* W, int64_t K, int64_t c0, int64_t w, float* s) {
  for (int64_t c = 0; c < w; ++c) {
    const T* r = W + (c0 + c) * K;
    float acc = 0;
#pragma omp simd reduction(+ : acc)
    for (int64_t i = 0; i < K; ++i) acc += x[i] * widen(r[i]);
    s[c] = acc;
  }
}

}  // namespace

const char* weight_format_name(WeightFormat f) {
  switch (f) {
    case WeightFormat::F32: return "f32";
    case WeightFormat::BF16: return "bf16";
    case WeightFormat::Int8: return "int8";
  }
  return "?";
}

PackedMatrix pack_matrix(const float* W, int64_t K, int64_t N, bool conv1d, WeightFormat format) {
  SDNC_CHECK(format != WeightFormat::F32, "gemv", "pack_matrix: F32 needs no packing");
  PackedMatrix p;
  p.format = format, p.K = K, p.N = N, p.conv1d = conv1d;
  const int64_t count = K * N;
  if (format == WeightFormat::BF16) {
    p.bf16.resize(count);
    for (int64_t i = 0; i < count; ++i) p.bf16[i] = to_bf16(W[i]);
    return p;
  }
  // Int8: scale_o = max_i |W[i, o]| / 127 (1 where the column is all zero), q = round(w / scale).
  p.q.resize(count), p.scale.assign(N, 0.0f);
  auto at = [&](int64_t i, int64_t o) { return conv1d ? i * N + o : o * K + i; };
  for (int64_t o = 0; o < N; ++o) {
    float mx = 0;
    for (int64_t i = 0; i < K; ++i) mx = std::max(mx, std::fabs(W[at(i, o)]));
    const float scale = mx > 0 ? mx / 127.0f : 1.0f;
    p.scale[o] = scale;
    for (int64_t i = 0; i < K; ++i)
      p.q[at(i, o)] = static_cast<int8_t>(std::clamp(std::nearbyint(W[at(i, o)] / scale), -127.0f, 127.0f));
  }
  return p;
}

float unpacked(const PackedMatrix& W, int64_t i, int64_t o) {
  const int64_t at = W.conv1d ? i * W.N + o : o * W.K + i;
  if (W.format == WeightFormat::BF16) return widen(W.bf16[at]);
  return W.scale[o] * widen(W.q[at]);
}

void row_times_packed(const float* x, const PackedMatrix& W, const float* bias, float* y, int64_t o0, int64_t o1,
                      RowEpilogue epilogue) {
  alignas(64) float s[kCols];
  for (int64_t c0 = o0; c0 < o1; c0 += kCols) {
    const int64_t w = std::min(kCols, o1 - c0);
    if (W.format == WeightFormat::BF16) {
      if (W.conv1d) conv1d_block(x, W.bf16.data(), W.K, W.N, c0, w, s);
      else linear_block(x, W.bf16.data(), W.K, c0, w, s);
    } else {
      if (W.conv1d) conv1d_block(x, W.q.data(), W.K, W.N, c0, w, s);
      else linear_block(x, W.q.data(), W.K, c0, w, s);
      const float* scale = W.scale.data() + c0;
#pragma omp simd
      for (int64_t c = 0; c < w; ++c) s[c] *= scale[c];
    }
    finish_row(epilogue, s, bias ? bias + c0 : nullptr, y + c0, w);
  }
}

}  // namespace sdnc::cpu
