#include "sdnc/memory/temporal_links.h"

#include "sdnc/ops/ops.h"

namespace sdnc::memory {

Tensor update_link(const Tensor& prev_link, const Tensor& prev_precedence, const Tensor& write_weights) {
  const int64_t B = write_weights.size(0), H = write_weights.size(1), N = write_weights.size(2);
  SDNC_CHECK(prev_link.shape() == (Shape{B, H, N, N}) && prev_precedence.shape() == (Shape{B, H, N}),
             "temporal_links", "link {} / precedence {} do not match write weights {}", shape_str(prev_link.shape()),
             shape_str(prev_precedence.shape()), shape_str(write_weights.shape()));
  Tensor wi = reshape(write_weights, {B, H, N, 1}), wj = reshape(write_weights, {B, H, 1, N});
  Tensor scale = add_scalar(neg(add(wi, wj)), 1.0);                    // [B, H, N, N]
  Tensor fresh = mul(wi, reshape(prev_precedence, {B, H, 1, N}));      // w[i]·p[j]
  Tensor link = add(mul(scale, prev_link), fresh);
  std::vector<double> off_diagonal(N * N, 1.0);
  for (int64_t i = 0; i < N; ++i) off_diagonal[i * N + i] = 0.0;
  return mul(link, Tensor::from_vector(off_diagonal, {N, N}, link.dtype()));
}

Tensor update_precedence(const Tensor& prev_precedence, const Tensor& write_weights) {
  SDNC_CHECK(prev_precedence.shape() == write_weights.shape(), "temporal_links",
             "precedence {} != write weights {}", shape_str(prev_precedence.shape()),
             shape_str(write_weights.shape()));
  Tensor write_sum = sum(write_weights, 2, /*keepdim=*/true);  // [B, H, 1]
  return add(mul(add_scalar(neg(write_sum), 1.0), prev_precedence), write_weights);
}

Tensor directional_weights(const Tensor& link, const Tensor& prev_read_weights, bool forward) {
  const int64_t B = link.size(0), H = link.size(1), N = link.size(2), R = prev_read_weights.size(1);
  SDNC_CHECK(prev_read_weights.shape() == (Shape{B, R, N}), "temporal_links",
             "prev_read_weights {} must be [{}, R, {}]", shape_str(prev_read_weights.shape()), B, N);
  Tensor l = forward ? link : transpose(link, 2, 3);                              // [B, H, N, N]
  Tensor out = bmm(reshape(l, {B, H * N, N}), transpose(prev_read_weights, 1, 2));  // [B, H·N, R]
  return permute(reshape(out, {B, H, N, R}), {0, 3, 1, 2});                        // [B, R, H, N]
}

}  // namespace sdnc::memory
