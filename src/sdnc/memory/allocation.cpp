#include "sdnc/memory/allocation.h"

#include <algorithm>
#include <numeric>

#include "sdnc/backend/cpu/dnc_addressing.h"
#include "sdnc/memory/cosine_weights.h"
#include "sdnc/ops/ops.h"

namespace sdnc::memory {

Tensor allocation_order(const Tensor& usage) {
  SDNC_CHECK(usage.ndim() == 2, "allocation", "usage {} must be [B, N]", shape_str(usage.shape()));
  const int64_t B = usage.size(0), N = usage.size(1);
  std::vector<double> u = usage.to_doubles();
  std::vector<int64_t> order(B * N);
  std::vector<float> key(N);
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t i = 0; i < N; ++i) key[i] = cpu::dnc_allocation_sort_key(u[b * N + i]);  // shared with the fused step
    int64_t* row = order.data() + b * N;
    std::iota(row, row + N, int64_t{0});
    std::stable_sort(row, row + N, [&](int64_t i, int64_t j) { return key[i] > key[j]; });
  }
  return Tensor::from_indices(order, {B, N});
}

Tensor allocation_weights(const Tensor& usage) {
  const int64_t B = usage.size(0), N = usage.size(1);
  Tensor order = allocation_order(usage);
  std::vector<int64_t> phi = order.to_indices(), inverse(B * N);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < N; ++j) inverse[b * N + phi[b * N + j]] = j;
  Tensor clamped = add_scalar(mul_scalar(usage, 1.0 - kDncEpsilon), kDncEpsilon);
  Tensor nonusage = add_scalar(neg(clamped), 1.0);
  Tensor sorted_nonusage = gather(nonusage, 1, order);
  Tensor sorted_usage = add_scalar(neg(sorted_nonusage), 1.0);
  Tensor sorted_allocation = mul(sorted_nonusage, cumprod(sorted_usage, 1, /*exclusive=*/true));
  return gather(sorted_allocation, 1, Tensor::from_indices(inverse, {B, N}));
}

Tensor write_allocation_weights(const Tensor& usage, const Tensor& write_gates) {
  SDNC_CHECK(usage.ndim() == 2 && write_gates.ndim() == 2 && write_gates.size(0) == usage.size(0), "allocation",
             "usage {} must be [B, N] and write_gates {} [B, H]", shape_str(usage.shape()),
             shape_str(write_gates.shape()));
  const int64_t B = usage.size(0), N = usage.size(1), H = write_gates.size(1);
  Tensor u = usage;
  std::vector<Tensor> heads;
  for (int64_t h = 0; h < H; ++h) {
    Tensor a = allocation_weights(u);
    heads.push_back(reshape(a, {B, 1, N}));
    if (h + 1 < H) {
      Tensor g = slice(write_gates, 1, h, h + 1);  // [B, 1]
      u = add(u, mul(mul(add_scalar(neg(u), 1.0), g), a));
    }
  }
  return H == 1 ? heads[0] : concat(heads, 1);
}

}  // namespace sdnc::memory
