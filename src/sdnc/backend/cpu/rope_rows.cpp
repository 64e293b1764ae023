// backend/cpu/rope_rows.cpp — RoPE of rows at one position.
#include "sdnc/backend/cpu/rope_rows.h"

#include <cmath>

namespace sdnc::cpu {

void rope_angles(int64_t position, const float* inv_freq, int64_t half, float* cos_out, float* sin_out) {
  for (int64_t i = 0; i < half; ++i) {
    const float angle = static_cast<float>(position) * inv_freq[i];
    cos_out[i] = std::cos(angle);
    sin_out[i] = std::sin(angle);
  }
}

void rope_rotate(float* x, int64_t heads, int64_t W, const float* cos_a, const float* sin_a) {
  const int64_t half = W / 2;
  for (int64_t h = 0; h < heads; ++h) {
    float* p = x + h * W;
    for (int64_t i = 0; i < half; ++i) {
      const float a = p[i], b = p[i + half];
      p[i] = a * cos_a[i] - b * sin_a[i];
      p[i + half] = b * cos_a[i] + a * sin_a[i];
    }
  }
}

}  // namespace sdnc::cpu
