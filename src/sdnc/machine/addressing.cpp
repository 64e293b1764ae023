#include "sdnc/machine/addressing.h"

#include <cmath>

#include "sdnc/ops/ops.h"

namespace sdnc::machine {

Tensor apply_strength(Strength strength, const Tensor& raw) {
  Tensor s = softplus(raw);
  return strength == Strength::Oneplus ? add_scalar(s, 1.0) : s;
}

Tensor per_head_slices(const Tensor& rows, int64_t S, int64_t R) {
  const int64_t B = rows.size(0), n = rows.size(1), W = rows.size(2) / S;
  Tensor x = permute(reshape(rows, {B, n, S, W}), {0, 2, 1, 3});  // [B, S, n, W]
  if (S != R) {
    std::vector<int64_t> group(R);
    for (int64_t r = 0; r < R; ++r) group[r] = r / (R / S);
    x = index_select(x, 1, Tensor::from_indices(group, {R}));  // [B, R, n, W]
  }
  return reshape(x, {B * R, n, W});
}

namespace {

// x [..., W] → ‖x‖ = √(Σx² + ε) [..., 1]
Tensor eps_norm(const Tensor& x) { return sqrt(add_scalar(sum(mul(x, x), -1, true), kAddressingEpsilon)); }

// keys [M, n, Wk], queries [M, K, Wk] → scores [M, K, n]
Tensor scores_one_memory(Similarity sim, Strength strength, const Tensor& keys, const Tensor& queries,
                         const Tensor& strengths) {
  Tensor dots = bmm(queries, transpose(keys, 1, 2));  // [M, K, n]
  if (sim == Similarity::Dot) return mul_scalar(dots, 1.0 / std::sqrt(static_cast<double>(keys.size(2))));
  Tensor denom = add_scalar(bmm(eps_norm(queries), transpose(eps_norm(keys), 1, 2)), kAddressingEpsilon);
  const int64_t M = queries.size(0), K = queries.size(1);
  return mul(div(dots, denom), reshape(apply_strength(strength, strengths), {M, K, 1}));
}

}  // namespace

Tensor content_scores(Similarity sim, Strength strength, const Tensor& keys, const Tensor& queries, int64_t S,
                      const Tensor& strengths) {
  SDNC_CHECK(keys.ndim() == 3 && queries.ndim() == 3 && keys.size(0) == queries.size(0), "addressing",
             "keys {} and queries {} must be [B, n, S·W] and [B, K, W]", shape_str(keys.shape()),
             shape_str(queries.shape()));
  SDNC_CHECK(sim == Similarity::Dot || strengths.defined(), "addressing", "cosine addressing needs strengths");
  const int64_t B = keys.size(0), n = keys.size(1), K = queries.size(1), Wq = queries.size(2);
  if (Wq == keys.size(2)) return scores_one_memory(sim, strength, keys, queries, strengths);  // whole rows
  SDNC_CHECK(Wq * S == keys.size(2), "addressing", "query width {} × {} slices != slot width {}", Wq, S,
             keys.size(2));
  Tensor per_head = per_head_slices(keys, S, K);  // [B·K, n, W]
  Tensor s = scores_one_memory(sim, strength, per_head, reshape(queries, {B * K, 1, Wq}),
                               strengths.defined() ? reshape(strengths, {B * K, 1}) : Tensor());
  return reshape(s, {B, K, n});
}

Tensor content_weights(Similarity sim, Strength strength, const Tensor& keys, const Tensor& queries, int64_t S,
                       const Tensor& strengths, const Tensor& bias) {
  Tensor s = content_scores(sim, strength, keys, queries, S, strengths);
  if (bias.defined()) s = add(s, bias);
  return softmax(s, -1);
}

Tensor read_slices(const Tensor& weights, const Tensor& source, int64_t S) {
  const int64_t B = weights.size(0), R = weights.size(1), n = weights.size(2);
  SDNC_CHECK(source.ndim() == 3 && source.size(0) == B && source.size(1) == n, "read_heads",
             "weights {} and memory {} disagree", shape_str(weights.shape()), shape_str(source.shape()));
  if (S == 1) return bmm(weights, source);  // [B, R, W]
  const int64_t W = source.size(2) / S;
  Tensor out = bmm(reshape(weights, {B * R, 1, n}), per_head_slices(source, S, R));  // [B·R, 1, W]
  return reshape(out, {B, R, W});
}

}  // namespace sdnc::machine
