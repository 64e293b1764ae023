#include "sdnc/train/grad_clip.h"

#include <cmath>

#include "sdnc/core/error.h"

namespace sdnc::train {

double clip_grad_global_norm(const std::vector<Tensor>& params, double max_norm) {
  double sum = 0.0;
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    dispatch_floating(g.dtype(), "clip_grad", [&](auto tag) {
      using T = decltype(tag);
      const T* x = g.data<T>();
      for (int64_t i = 0; i < g.numel(); ++i) sum += static_cast<double>(x[i]) * static_cast<double>(x[i]);
    });
  }
  double norm = std::sqrt(sum);
  if (!(max_norm > 0.0) || !std::isfinite(norm) || norm <= max_norm) return norm;
  double scale = max_norm / norm;
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    dispatch_floating(g.dtype(), "clip_grad", [&](auto tag) {
      using T = decltype(tag);
      T* x = g.data<T>();
      for (int64_t i = 0; i < g.numel(); ++i) x[i] = static_cast<T>(static_cast<double>(x[i]) * scale);
    });
  }
  return norm;
}

}  // namespace sdnc::train
