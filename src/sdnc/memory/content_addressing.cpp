#include "sdnc/memory/content_addressing.h"

#include <cmath>

#include "sdnc/ops/ops.h"

namespace sdnc::memory {

Tensor l2_normalize(const Tensor& x, double eps) {
  Tensor norm = sqrt(add_scalar(sum(mul(x, x), -1, /*keepdim=*/true), eps));
  return div(x, norm);
}

AddressedKeys address(Similarity sim, const Tensor& q, const Tensor& k, const Tensor& strength, double eps) {
  if (sim == Similarity::ScaledDot) return {q, k, 1.0 / std::sqrt(static_cast<double>(q.size(-1)))};
  if (!strength.defined() || strength.shape() != Shape{q.size(1)})
    fail("content_addressing", "cosine similarity needs a strength per head [{}]", q.size(1));
  Tensor beta = reshape(strength, {1, q.size(1), 1, 1});
  return {mul(l2_normalize(q, eps), beta), l2_normalize(k, eps), 1.0};
}

}  // namespace sdnc::memory
