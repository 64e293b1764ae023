#include "sdnc/memory/usage.h"

#include "sdnc/ops/ops.h"

namespace sdnc::memory {

Tensor update_usage(const Tensor& prev_usage, const Tensor& prev_write_weights, const Tensor& free_gate,
                    const Tensor& prev_read_weights, bool stop_gradient) {
  const int64_t B = prev_usage.size(0), N = prev_usage.size(1), R = free_gate.size(1);
  SDNC_CHECK(prev_write_weights.ndim() == 3 && prev_write_weights.size(0) == B && prev_write_weights.size(2) == N,
             "update_usage", "prev_write_weights {} must be [{}, H, {}]", shape_str(prev_write_weights.shape()), B, N);
  SDNC_CHECK(prev_read_weights.shape() == (Shape{B, R, N}), "update_usage", "prev_read_weights {} must be [{}, {}, {}]",
             shape_str(prev_read_weights.shape()), B, R, N);
  // after write (stop-gradient of the previous write weights)
  Tensor w = stop_gradient ? prev_write_weights.detach() : prev_write_weights;
  Tensor written = add_scalar(neg(prod(add_scalar(neg(w), 1.0), 1)), 1.0);  // [B, N]
  Tensor u = add(prev_usage, mul(add_scalar(neg(prev_usage), 1.0), written));
  // after read
  Tensor freed = mul(reshape(free_gate, {B, R, 1}), prev_read_weights);  // [B, R, N]
  Tensor psi = prod(add_scalar(neg(freed), 1.0), 1);                      // [B, N]
  return mul(u, psi);
}

}  // namespace sdnc::memory
