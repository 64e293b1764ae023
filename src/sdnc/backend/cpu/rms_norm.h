// backend/cpu/rms_norm.h — RMSNorm of one row (Llama's norm), F32 in and out, serial: a decoding
// step normalises its row inside its own parallel region.
//   y[i] = g[i] · x[i] / √(Σ_j x[j]² / D + eps)       (the sum in double, like layer_norm_row)
#pragma once
#include <cstdint>

namespace sdnc::cpu {

void rms_norm_row(const float* x, const float* g, int64_t D, double eps, float* y);

}  // namespace sdnc::cpu
