#include "sdnc/memory/word_memory.h"

#include "sdnc/ops/ops.h"

namespace sdnc::memory {

Tensor erase_and_write(const Tensor& memory, const Tensor& write_weights, const Tensor& erase, const Tensor& values) {
  const int64_t B = memory.size(0), N = memory.size(1), W = memory.size(2), H = write_weights.size(1);
  SDNC_CHECK(write_weights.shape() == (Shape{B, H, N}), "erase_and_write", "write_weights {} != [{}, H, {}]",
             shape_str(write_weights.shape()), B, N);
  SDNC_CHECK(erase.shape() == (Shape{B, H, W}) && values.shape() == (Shape{B, H, W}), "erase_and_write",
             "erase {} and values {} must be [{}, {}, {}]", shape_str(erase.shape()), shape_str(values.shape()), B,
             H, W);
  // erase: Π_h (1 − w_h[n] e_h[w]) over the head axis
  Tensor weighted = mul(reshape(write_weights, {B, H, N, 1}), reshape(erase, {B, H, 1, W}));  // [B, H, N, W]
  Tensor keep = prod(add_scalar(neg(weighted), 1.0), 1);                                    // [B, N, W]
  // add: Σ_h w_h v_hᵀ = wᵀ v
  Tensor added = bmm(transpose(write_weights, 1, 2), values);  // [B, N, H]·[B, H, W]
  return add(mul(memory, keep), added);
}

Tensor read_words(const Tensor& memory, const Tensor& read_weights) {
  SDNC_CHECK(read_weights.ndim() == 3 && memory.ndim() == 3 && read_weights.size(2) == memory.size(1), "read_words",
             "read_weights {} do not match memory {}", shape_str(read_weights.shape()), shape_str(memory.shape()));
  return bmm(read_weights, memory);
}

}  // namespace sdnc::memory
