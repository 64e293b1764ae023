#include "sdnc/backend/cpu/slot_read.h"

#include <algorithm>

#include "sdnc/backend/cpu/simd_math.h"

namespace sdnc::cpu {

void slot_read_chunk(const SlotReadShape& s, const float* q_all, const float* keys, const float* values, int64_t slots,
                     int64_t chunk, float* e, float* partial, float* stats) {
  const int64_t R = s.R, S = s.S, W = s.W, SW = S * W;
  const int64_t j0 = chunk * kSlotChunk, n = std::min(slots, j0 + kSlotChunk) - j0;
  // Scores, row by row: e[h, t] for slot j0 + t.
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
  // The chunk's softmax numerators: exp(e − m) and their sum l, per head.
  for (int64_t h = 0; h < R; ++h) {
    float* eh = e + h * kSlotChunk;
    float m = eh[0];
#pragma omp simd reduction(max : m)
    for (int64_t t = 1; t < n; ++t) m = eh[t] > m ? eh[t] : m;
    float l = 0;
#pragma omp simd reduction(+ : l)
    for (int64_t t = 0; t < n; ++t) {
      const float x = exp_f32(eh[t] - m);
      eh[t] = x;
      l += x;
    }
    stats[h] = m, stats[R + h] = l;
  }
  // Values, row by row: partial_h = Σ_t exp(e_ht − m_h) V[j0 + t, h]; out [R·W] stays in L1.
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
