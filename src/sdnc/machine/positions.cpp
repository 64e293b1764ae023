#include "sdnc/machine/positions.h"

#include <cmath>

#include "sdnc/ops/ops.h"

namespace sdnc::machine {

Tensor rope(const Tensor& x, int64_t first, double theta) {
  SDNC_CHECK(x.ndim() == 4 && x.size(3) % 2 == 0, "rope", "input {} must be [B, n, K, W] with W even",
             shape_str(x.shape()));
  const int64_t n = x.size(1), W = x.size(3), half = W / 2;
  Tensor cos_t = Tensor::zeros({n, 1, half}, DType::F64), sin_t = Tensor::zeros({n, 1, half}, DType::F64);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t i = 0; i < half; ++i) {
      double angle = static_cast<double>(first + t) * std::pow(theta, -2.0 * static_cast<double>(i) / W);
      cos_t.data<double>()[t * half + i] = std::cos(angle);
      sin_t.data<double>()[t * half + i] = std::sin(angle);
    }
  if (x.dtype() != DType::F64) cos_t = cos_t.to(x.dtype()), sin_t = sin_t.to(x.dtype());
  Tensor x1 = slice(x, 3, 0, half), x2 = slice(x, 3, half, W);
  return concat({sub(mul(x1, cos_t), mul(x2, sin_t)), add(mul(x2, cos_t), mul(x1, sin_t))}, 3);
}

Tensor alibi_bias(int64_t R, int64_t first, int64_t n, int64_t slots, DType dtype) {
  Tensor b = Tensor::zeros({R, n, slots}, DType::F64);
  double* p = b.data<double>();
  for (int64_t r = 0; r < R; ++r) {
    double m = std::pow(2.0, -8.0 * static_cast<double>(r + 1) / static_cast<double>(R));
    for (int64_t t = 0; t < n; ++t)
      for (int64_t j = 0; j < slots && j <= first + t; ++j)
        p[(r * n + t) * slots + j] = -m * static_cast<double>(first + t - j);
  }
  return dtype == DType::F64 ? b : b.to(dtype);
}

}  // namespace sdnc::machine
