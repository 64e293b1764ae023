#include "sdnc/backend/cpu/slot_read.h"

#include <algorithm>

#include "sdnc/backend/cpu/simd_math.h"

namespace sdnc::cpu {

void slot_scores(const SlotReadShape& s, const float* q_all, const float* keys, int64_t slots, int64_t j0, int64_t j1,
                 float* scores) {
  const int64_t R = s.R, S = s.S, W = s.W, SW = S * W;
  for (int64_t j = j0; j < j1; ++j) {  // row j front to back: one stream through memory
    const float* row = keys + j * SW;
    for (int64_t h = 0; h < R; ++h) {
      const float *q = q_all + h * W, *k = row + (h * S / R) * W;
      float e = 0;
#pragma omp simd reduction(+ : e)
      for (int64_t c = 0; c < W; ++c) e += q[c] * k[c];
      scores[h * slots + j] = e * s.scale;
    }
  }
}

void softmax_in_place(float* row, int64_t n) {
  float mx = row[0];
#pragma omp simd reduction(max : mx)
  for (int64_t j = 1; j < n; ++j) mx = row[j] > mx ? row[j] : mx;
  float sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < n; ++j) {
    const float e = exp_f32(row[j] - mx);
    row[j] = e;
    sum += e;
  }
  const float inv = 1.0f / sum;
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) row[j] *= inv;
}

void slot_values(const SlotReadShape& s, const float* weights, const float* values, int64_t slots, int64_t j0,
                 int64_t j1, float* out) {
  const int64_t R = s.R, S = s.S, W = s.W, SW = S * W;
  std::fill(out, out + R * W, 0.0f);
  for (int64_t j = j0; j < j1; ++j) {  // row j front to back; out [R·W] stays in L1
    const float* row = values + j * SW;
    for (int64_t h = 0; h < R; ++h) {
      const float w = weights[h * slots + j];
      const float* v = row + (h * S / R) * W;
      float* o = out + h * W;
#pragma omp simd
      for (int64_t c = 0; c < W; ++c) o[c] += w * v[c];
    }
  }
}

void sum_chunks(const SlotReadShape& s, const float* partial, int64_t chunks, int64_t h, float* r) {
  const int64_t RW = s.R * s.W, W = s.W;
  std::copy(partial + h * W, partial + (h + 1) * W, r);
  for (int64_t c = 1; c < chunks; ++c) {
    const float* p = partial + c * RW + h * W;
#pragma omp simd
    for (int64_t k = 0; k < W; ++k) r[k] += p[k];
  }
}

void slot_read(const SlotReadShape& s, const float* q, const float* keys, const float* values, int64_t slots,
               float* scores, float* partial, float* reads) {
  const int64_t chunks = slot_chunks(slots), RW = s.R * s.W;
  for (int64_t c = 0; c < chunks; ++c)
    slot_scores(s, q, keys, slots, c * kSlotChunk, std::min(slots, (c + 1) * kSlotChunk), scores);
  for (int64_t h = 0; h < s.R; ++h) softmax_in_place(scores + h * slots, slots);
  for (int64_t c = 0; c < chunks; ++c)
    slot_values(s, scores, values, slots, c * kSlotChunk, std::min(slots, (c + 1) * kSlotChunk), partial + c * RW);
  for (int64_t h = 0; h < s.R; ++h) sum_chunks(s, partial, chunks, h, reads + h * s.W);
}

}  // namespace sdnc::cpu
