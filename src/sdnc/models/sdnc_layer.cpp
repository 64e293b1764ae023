#include "sdnc/models/sdnc_layer.h"

#include "sdnc/autograd/grad_mode.h"
#include "sdnc/memory/read_heads.h"
#include "sdnc/ops/ops.h"

namespace sdnc::models {

using memory::merge_heads;
using memory::split_heads;

SdncLayer::SdncLayer(const LayerConfig& config) : config_(config) {
  controller = register_module("", std::make_shared<controllers::StatelessController>(config.controller));
  if (config.similarity == memory::Similarity::Cosine)
    read_strength = register_parameter("read_strength", Tensor::ones({config.controller.n_heads}));
}

template <class F>
Tensor SdncLayer::sublayer(const Tensor& x, const nn::LayerNorm& norm, F&& body) const {
  if (config_.controller.norm_first) return add(x, body(norm.forward(x)));
  return norm.forward(add(x, body(x)));
}

memory::AddressedKeys SdncLayer::addressed(const Tensor& q, const Tensor& k) const {
  return memory::address(config_.similarity, q, k, read_strength);
}

Tensor multi_head_read(const controllers::HeadProjections& heads, int64_t H, memory::Similarity similarity,
                       const Tensor& strength, const Tensor& a, const Tensor& source, const Tensor& padding,
                       bool causal, Tensor* weights) {
  int64_t D = a.size(-1);
  Tensor q, k, v;
  if (source.impl_ptr() == a.impl_ptr()) {  // self-read: one fused projection for q, k, v
    std::vector<Tensor> parts = split(heads.project(a, 0, 3), {D, D, D}, -1);
    q = parts[0], k = parts[1], v = parts[2];
  } else {  // another memory: q from a, k and v from the source
    q = heads.project(a, 0, 1);
    std::vector<Tensor> parts = split(heads.project(source, 1, 2), {D, D}, -1);
    k = parts[0], v = parts[1];
  }
  auto keys = memory::address(similarity, split_heads(q, H), split_heads(k, H), strength);
  Tensor reads = memory::read_parallel(keys.q, keys.k, split_heads(v, H), padding, causal, keys.scale, weights);
  return heads.read_out(merge_heads(reads));
}

Tensor SdncLayer::forward_parallel(const Tensor& x, const ParallelContext& ctx) const {
  const auto& c = *controller;
  int64_t H = c.config().n_heads;
  Tensor y = sublayer(x, *c.norm_self, [&](const Tensor& a) {
    return multi_head_read(*c.self_heads, H, config_.similarity, read_strength, a, a, ctx.padding, ctx.causal,
                           ctx.self_weights);
  });
  if (c.cross_heads) {
    if (!ctx.cross_source.defined()) fail("sdnc_layer", "a decoder layer needs the encoder's memory");
    y = sublayer(y, *c.norm_cross, [&](const Tensor& a) {
      return multi_head_read(*c.cross_heads, H, config_.similarity, read_strength, a, ctx.cross_source,
                             ctx.cross_padding, /*causal=*/false, ctx.cross_weights);
    });
  }
  return sublayer(y, *c.norm_ffn, [&](const Tensor& a) { return c.ffn->forward(a); });
}

void SdncLayer::write_cross_memory(const Tensor& source, const Tensor& padding, LayerMemories& memories) const {
  NoGradGuard no_grad;
  const auto& c = *controller;
  if (!c.cross_heads) fail("sdnc_layer", "only decoder layers have a cross memory");
  int64_t B = source.size(0), H = c.config().n_heads, D = c.config().d_model;
  std::vector<Tensor> parts = split(c.cross_heads->project(source, 1, 2), {D, D}, -1);
  Tensor k = split_heads(parts[0], H);
  if (config_.similarity == memory::Similarity::Cosine) k = memory::l2_normalize(k);
  memories.cross = memory::AppendOnceMemory(B, H, D / H, D / H, source.dtype(), source.size(1));
  memories.cross.write(k, split_heads(parts[1], H), padding);
}

Tensor SdncLayer::step(const Tensor& x, LayerMemories& memories, bool write, bool read, const Tensor& padding,
                       Tensor* self_weights, Tensor* cross_weights) const {
  NoGradGuard no_grad;
  const auto& c = *controller;
  int64_t B = x.size(0), H = c.config().n_heads, D = c.config().d_model;
  if (memories.self.capacity() == 0) memories.self = memory::AppendOnceMemory(B, H, D / H, D / H, x.dtype());
  bool pre = c.config().norm_first;
  Tensor a = pre ? c.norm_self->forward(x) : x;
  std::vector<Tensor> parts = split(c.self_heads->project(a, 0, 3), {D, D, D}, -1);
  auto keys = addressed(split_heads(parts[0], H), split_heads(parts[1], H));
  if (write) memories.self.write(keys.k, split_heads(parts[2], H), padding);
  if (!read) return Tensor();
  // Positions written in this same step read causally (slot t sees slots ≤ t); positions
  // that only read (the encoder's read phase) see every slot written.
  Tensor reads = memory::read_memory(keys.q, memories.self, keys.scale, self_weights, /*causal=*/write);
  Tensor y = add(x, c.self_heads->read_out(merge_heads(reads)));
  if (!pre) y = c.norm_self->forward(y);
  if (c.cross_heads) {
    Tensor b = pre ? c.norm_cross->forward(y) : y;
    Tensor q = split_heads(c.cross_heads->project(b, 0, 1), H);
    if (config_.similarity == memory::Similarity::Cosine) q = memory::address(config_.similarity, q, q, read_strength).q;
    double scale = config_.similarity == memory::Similarity::Cosine ? 1.0 : 1.0 / std::sqrt(static_cast<double>(D / H));
    Tensor r = memory::read_memory(q, memories.cross, scale, cross_weights);
    y = add(y, c.cross_heads->read_out(merge_heads(r)));
    if (!pre) y = c.norm_cross->forward(y);
  }
  Tensor z = add(y, c.ffn->forward(pre ? c.norm_ffn->forward(y) : y));
  return pre ? z : c.norm_ffn->forward(z);
}

}  // namespace sdnc::models
