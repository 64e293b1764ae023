#include "sdnc/memory/cosine_weights.h"

#include "sdnc/ops/ops.h"

namespace sdnc::memory {

Strength parse_strength(const std::string& name) {
  if (name == "softplus") return Strength::Softplus;
  if (name == "oneplus") return Strength::Oneplus;
  fail("config", "strength must be 'softplus' or 'oneplus', got '{}'", name);
}

const char* strength_name(Strength s) { return s == Strength::Softplus ? "softplus" : "oneplus"; }

namespace {
Tensor vector_norms(const Tensor& x) {  // [B, K, W] → [B, K, 1]
  return sqrt(add_scalar(sum(mul(x, x), -1, /*keepdim=*/true), kDncEpsilon));
}
}  // namespace

Tensor cosine_weights(const Tensor& memory, const Tensor& keys, const Tensor& strengths, Strength strength) {
  const int64_t B = memory.size(0), N = memory.size(1), W = memory.size(2), K = keys.size(1);
  SDNC_CHECK(keys.shape() == (Shape{B, K, W}), "cosine_weights", "keys {} must be [{}, K, {}]",
             shape_str(keys.shape()), B, W);
  SDNC_CHECK(strengths.shape() == (Shape{B, K}), "cosine_weights", "strengths {} must be [{}, {}]",
             shape_str(strengths.shape()), B, K);
  Tensor dot = bmm(keys, transpose(memory, 1, 2));                                          // [B, K, N]
  Tensor norm = mul(vector_norms(keys), reshape(vector_norms(memory), {B, 1, N}));          // [B, K, N]
  Tensor similarity = div(dot, add_scalar(norm, kDncEpsilon));
  Tensor beta = softplus(strengths);
  if (strength == Strength::Oneplus) beta = add_scalar(beta, 1.0);
  return softmax(mul(similarity, reshape(beta, {B, K, 1})), -1);
}

}  // namespace sdnc::memory
