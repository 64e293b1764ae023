#include "sdnc/backend/cpu/slot_read.h"

#include <algorithm>

#include "sdnc/backend/cpu/simd_math.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace sdnc::cpu {

namespace {

// Any W: e[h, t] = scale · q_h · K[j0 + t, h·S/R], row by row.
void scores_any(const SlotReadShape& s, const float* q_all, const float* keys, int64_t j0, int64_t n, float* e) {
  const int64_t R = s.R, S = s.S, W = s.W, SW = S * W;
  for (int64_t t = 0; t < n; ++t) {
    const float* row = keys + (j0 + t) * SW;
    for (int64_t h = 0; h < R; ++h) {
      const float *q = q_all + h * W, *k = row + (h * S / R) * W;
      float acc = 0;
#pragma omp simd reduction(+ : acc)
      for (int64_t c = 0; c < W; ++c) acc += q[c] * k[c];
      e[h * kSlotChunk + t] = acc * s.scale;
    }
  }
}

// Any W: partial_h = Σ_t e[h, t] · V[j0 + t, h·S/R], row by row; partial [R·W] stays in L1.
void values_any(const SlotReadShape& s, const float* e, const float* values, int64_t j0, int64_t n, float* partial) {
  const int64_t R = s.R, S = s.S, W = s.W, SW = S * W;
  std::fill(partial, partial + R * W, 0.0f);
  for (int64_t t = 0; t < n; ++t) {
    const float* row = values + (j0 + t) * SW;
    for (int64_t h = 0; h < R; ++h) {
      const float w = e[h * kSlotChunk + t];
      const float* v = row + (h * S / R) * W;
      float* o = partial + h * W;
#pragma omp simd
      for (int64_t c = 0; c < W; ++c) o[c] += w * v[c];
    }
  }
}

#if defined(__AVX2__) && defined(__FMA__)
// The sum of v's 8 lanes.
inline float lane_sum(__m256 v) {
  __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  x = _mm_add_ps(x, _mm_movehl_ps(x, x));
  x = _mm_add_ss(x, _mm_movehdup_ps(x));
  return _mm_cvtss_f32(x);
}

// W = 64 (GPT-2's and T2's word size): a dot product as two independent chains of four FMAs
// over 8-lane vectors and one horizontal sum (the generic loop keeps one chain). 256-bit
// vectors: AVX2 machines run it too, and Zen 4 splits 512-bit FMAs into two of these anyway.
void scores_w64(const float* q_all, const float* keys, int64_t R, int64_t S, int64_t SW, int64_t j0, int64_t n,
                float scale, float* e) {
  for (int64_t t = 0; t < n; ++t) {
    const float* row = keys + (j0 + t) * SW;
    for (int64_t h = 0; h < R; ++h) {
      const float *q = q_all + h * 64, *k = row + (h * S / R) * 64;
      __m256 a = _mm256_mul_ps(_mm256_loadu_ps(q), _mm256_loadu_ps(k));
      __m256 b = _mm256_mul_ps(_mm256_loadu_ps(q + 8), _mm256_loadu_ps(k + 8));
      for (int c = 16; c < 64; c += 16) {
        a = _mm256_fmadd_ps(_mm256_loadu_ps(q + c), _mm256_loadu_ps(k + c), a);
        b = _mm256_fmadd_ps(_mm256_loadu_ps(q + c + 8), _mm256_loadu_ps(k + c + 8), b);
      }
      e[h * kSlotChunk + t] = lane_sum(_mm256_add_ps(a, b)) * scale;
    }
  }
}
#endif

#if defined(__AVX512F__)
// Values of G ≤ 4 heads [h0, h0 + G): their 4·G output vectors stay in registers over the
// chunk's rows (the generic loop loads and stores them once per row).
template <int G>
void values_w64(const float* e, const float* values, int64_t R, int64_t S, int64_t SW, int64_t j0, int64_t n,
                int64_t h0, float* partial) {
  __m512 acc[4 * G];
  for (auto& a : acc) a = _mm512_setzero_ps();
  for (int64_t t = 0; t < n; ++t) {
    const float* row = values + (j0 + t) * SW;
    for (int g = 0; g < G; ++g) {
      const __m512 w = _mm512_set1_ps(e[(h0 + g) * kSlotChunk + t]);
      const float* v = row + ((h0 + g) * S / R) * 64;
      for (int c = 0; c < 4; ++c) acc[4 * g + c] = _mm512_fmadd_ps(w, _mm512_loadu_ps(v + 16 * c), acc[4 * g + c]);
    }
  }
  for (int g = 0; g < G; ++g)
    for (int c = 0; c < 4; ++c) _mm512_storeu_ps(partial + (h0 + g) * 64 + 16 * c, acc[4 * g + c]);
}
#endif

}  // namespace

void slot_read_chunk(const SlotReadShape& s, const float* q_all, const float* keys, const float* values, int64_t slots,
                     int64_t chunk, float* e, float* partial, float* stats) {
  const int64_t R = s.R, S = s.S, W = s.W, SW = S * W;
  const int64_t j0 = chunk * kSlotChunk, n = std::min(slots, j0 + kSlotChunk) - j0;
  // Scores: e[h, t] for slot j0 + t.
#if defined(__AVX2__) && defined(__FMA__)
  if (W == 64) scores_w64(q_all, keys, R, S, SW, j0, n, s.scale, e);
  else scores_any(s, q_all, keys, j0, n, e);
#else
  scores_any(s, q_all, keys, j0, n, e);
#endif
  // The chunk's softmax numerators: exp(e − m) and their sum l, per head.
  for (int64_t h = 0; h < R; ++h) {
    float m = 0;
    const float l = exp_shifted_in_place(e + h * kSlotChunk, n, &m);
    stats[h] = m, stats[R + h] = l;
  }
  // Values: partial_h = Σ_t exp(e_ht − m_h) V[j0 + t, h].
#if defined(__AVX512F__)
  if (W == 64) {  // (AVX-512: 32 vector registers hold four heads' outputs)
    for (int64_t h0 = 0; h0 < R; h0 += 4) {
      switch (std::min<int64_t>(4, R - h0)) {
        case 4: values_w64<4>(e, values, R, S, SW, j0, n, h0, partial); break;
        case 3: values_w64<3>(e, values, R, S, SW, j0, n, h0, partial); break;
        case 2: values_w64<2>(e, values, R, S, SW, j0, n, h0, partial); break;
        default: values_w64<1>(e, values, R, S, SW, j0, n, h0, partial); break;
      }
    }
    return;
  }
#endif
  values_any(s, e, values, j0, n, partial);
}

void combine_chunks(const SlotReadShape& s, const float* partial, const float* stats, int64_t chunks, int64_t h,
                    float* r) {
  const int64_t R = s.R, W = s.W;
  float M = stats[h];
  for (int64_t c = 1; c < chunks; ++c) M = std::max(M, stats[c * 2 * R + h]);
  std::fill(r, r + W, 0.0f);
  float l = 0;
  for (int64_t c = 0; c < chunks; ++c) {  // in chunk order
    const float f = exp_f32(stats[c * 2 * R + h] - M);
    l += f * stats[c * 2 * R + R + h];
    const float* p = partial + c * R * W + h * W;
#pragma omp simd
    for (int64_t k = 0; k < W; ++k) r[k] += f * p[k];
  }
  const float inv = 1.0f / l;
#pragma omp simd
  for (int64_t k = 0; k < W; ++k) r[k] *= inv;
}

void slot_read(const SlotReadShape& s, const float* q, const float* keys, const float* values, int64_t slots,
               float* e, float* partial, float* stats, float* reads) {
  const int64_t chunks = slot_chunks(slots), RW = s.R * s.W;
  for (int64_t c = 0; c < chunks; ++c)
    slot_read_chunk(s, q, keys, values, slots, c, e, partial + c * RW, stats + c * 2 * s.R);
  for (int64_t h = 0; h < s.R; ++h) combine_chunks(s, partial, stats, chunks, h, reads + h * s.W);
}

}  // namespace sdnc::cpu
