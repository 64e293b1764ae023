// backend/cpu/rope_rows.h — rotary positions (RoPE, Hugging Face's rotate_half layout) applied
// to rows in place, F32, serial. The angles of one position are computed once
// (rope_angles) and shared by every head and layer that rotates at that position.
//   angle_i = position · inv_freq[i]   (F32 product, as transformers)     i < W/2
//   (a, b) = (x[i], x[i + W/2]) → (a·cos − b·sin, b·cos + a·sin)           per head of width W
#pragma once
#include <cstdint>

namespace sdnc::cpu {

// cos_out, sin_out [half] for `position`; inv_freq [half].
void rope_angles(int64_t position, const float* inv_freq, int64_t half, float* cos_out, float* sin_out);

// x [heads, W] rotated in place with the angles of rope_angles (half = W / 2).
void rope_rotate(float* x, int64_t heads, int64_t W, const float* cos_a, const float* sin_a);

}  // namespace sdnc::cpu
