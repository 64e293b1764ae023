#include "sdnc/machine/read_heads.h"

#include "sdnc/machine/addressing.h"
#include "sdnc/memory/temporal_links.h"
#include "sdnc/ops/ops.h"

namespace sdnc::machine {

std::pair<Tensor, Tensor> shift_directional_weights(const Tensor& prev, int64_t B, int64_t R, int64_t n,
                                                    DType dtype) {
  if (!prev.defined() || n < 2) return {Tensor::zeros({B, R, n}, dtype), Tensor::zeros({B, R, n}, dtype)};
  // forward f[i] = w[i − 1] (i = 1..n−1); backward b[j] = w[j + 1] (j = 0..n−3), zeros at n−2, n−1.
  Tensor fwd = concat({Tensor::zeros({B, R, 1}, dtype), prev}, 2);
  Tensor bwd = n > 2 ? concat({slice(prev, 2, 1, n - 1), Tensor::zeros({B, R, 2}, dtype)}, 2)
                     : Tensor::zeros({B, R, n}, dtype);
  return {fwd, bwd};
}

Tensor read_step(const MachineConfig& c, const Interface& x, const MemoryState& prev, MemoryState& next,
                 const Tensor& bias) {
  const int64_t B = x.read_keys.size(0), R = c.read_heads, H = c.write_heads, n = next.slots();
  Tensor content = content_weights(c.similarity, c.strength, next.keys, x.read_keys, c.slices(), x.read_strengths,
                                   bias);  // [B, R, n]
  Tensor weights = content;
  if (c.read_modes == ReadModes::Links) {
    std::vector<Tensor> modes = split(x.read_modes, {H, H, 1}, 2);  // backward, forward, content: [B, R, ·]
    weights = mul(modes[2], content);
    Tensor fwd, bwd;  // [B, R, H, n]
    if (next.link.defined()) {
      Tensor prev_rw = prev.read_weights;
      if (!prev_rw.defined()) prev_rw = Tensor::zeros({B, R, n}, content.dtype());
      while (prev_rw.size(2) < n) {  // slots appended this step were not read before
        Shape s = prev_rw.shape();
        s[2] = n - prev_rw.size(2);
        prev_rw = concat({prev_rw, Tensor::zeros(s, prev_rw.dtype())}, 2);
      }
      fwd = memory::directional_weights(next.link, prev_rw, /*forward=*/true);
      bwd = memory::directional_weights(next.link, prev_rw, /*forward=*/false);
    } else {
      auto [f, b] = shift_directional_weights(prev.read_weights, B, R, n, content.dtype());
      fwd = reshape(f, {B, R, 1, n});
      bwd = reshape(b, {B, R, 1, n});
    }
    weights = add(weights, sum(mul(reshape(modes[1], {B, R, H, 1}), fwd), 2));
    weights = add(weights, sum(mul(reshape(modes[0], {B, R, H, 1}), bwd), 2));
  }
  next.read_weights = weights;
  return read_slices(weights, next.read_source(), c.slices());
}

}  // namespace sdnc::machine
