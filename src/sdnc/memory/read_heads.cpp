#include "sdnc/memory/read_heads.h"

#include "sdnc/backend/cpu/attention.h"
#include "sdnc/ops/ops.h"

namespace sdnc::memory {

Tensor split_heads(const Tensor& x, int64_t heads) {
  int64_t B = x.size(0), T = x.size(1), D = x.size(2);
  if (D % heads != 0) fail("split_heads", "width {} is not divisible by {} heads", D, heads);
  return transpose(reshape(x, {B, T, heads, D / heads}), 1, 2);
}

Tensor merge_heads(const Tensor& x) {
  int64_t B = x.size(0), H = x.size(1), T = x.size(2), Dh = x.size(3);
  return reshape(transpose(x, 1, 2), {B, T, H * Dh});
}

Tensor read_parallel(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_padding_mask, bool causal,
                     double scale, Tensor* weights) {
  AttentionOptions o;
  o.causal = causal;
  o.scale = scale;
  return attention(q, k, v, key_padding_mask, o, weights);
}

Tensor read_memory(const Tensor& q, const AppendOnceMemory& memory, double scale, Tensor* weights, bool causal) {
  const char* op = "read_memory";
  if (memory.size() == 0) fail(op, "the memory is empty: write before reading");
  const Tensor& K = memory.key_storage();
  const Tensor& V = memory.value_storage();
  if (q.ndim() != 4 || q.size(0) != K.size(0) || q.size(1) != K.size(1) || q.size(3) != K.size(3))
    fail(op, "query {} does not fit memory keys {}", shape_str(q.shape()), shape_str(K.shape()));
  Tensor w = Tensor::empty({q.size(0), q.size(1), q.size(2), memory.size()}, q.dtype());
  Tensor out = Tensor::empty({q.size(0), q.size(1), q.size(2), V.size(3)}, q.dtype());
  cpu::attention_forward(q, K, V, memory.padding(), causal, scale, w, out, memory.size());
  if (weights) *weights = w;
  return out;
}

}  // namespace sdnc::memory
