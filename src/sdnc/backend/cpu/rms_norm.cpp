// backend/cpu/rms_norm.cpp — one row's RMSNorm.
#include "sdnc/backend/cpu/rms_norm.h"

#include <cmath>

namespace sdnc::cpu {

void rms_norm_row(const float* x, const float* g, int64_t D, double eps, float* y) {
  double ss = 0;
  for (int64_t i = 0; i < D; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float inv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(D) + eps));
  for (int64_t i = 0; i < D; ++i) y[i] = g[i] * (x[i] * inv);
}

}  // namespace sdnc::cpu
