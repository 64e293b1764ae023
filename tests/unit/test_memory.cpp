// The memory-machine parts: the append-once memory, content addressing and read heads, and
// the sDNC layer with cosine content addressing (the DNC's similarity) in both forms.
#include <gtest/gtest.h>

#include <cmath>

#include "common/tensor_compare.h"
#include "sdnc/memory/append_memory.h"
#include "sdnc/memory/content_addressing.h"
#include "sdnc/memory/read_heads.h"
#include "sdnc/models/sdnc_layer.h"
#include "sdnc/sdnc.h"

namespace sdnc {
namespace {

Tensor randn(Shape s, Generator& g) {
  Tensor t = Tensor::empty(s);
  g.fill_normal(t, 0, 1);
  return t;
}

using test::max_abs_diff;

TEST(AppendOnceMemory, GrowsOneSlotPerWriteAndNeverOverwrites) {
  Generator g(1);
  memory::AppendOnceMemory mem(2, 3, 4, 5, DType::F32, /*initial_capacity=*/1);
  std::vector<Tensor> ks, vs;
  for (int t = 0; t < 9; ++t) {  // forces several capacity doublings
    ks.push_back(randn({2, 3, 1, 4}, g));
    vs.push_back(randn({2, 3, 1, 5}, g));
    mem.write(ks.back(), vs.back());
    ASSERT_EQ(mem.size(), t + 1);
    ASSERT_GE(mem.capacity(), mem.size());
  }
  Tensor keys = slice(mem.key_storage(), 2, 0, mem.size());
  Tensor values = slice(mem.value_storage(), 2, 0, mem.size());
  EXPECT_EQ(max_abs_diff(keys, concat(ks, 2)), 0.0);
  EXPECT_EQ(max_abs_diff(values, concat(vs, 2)), 0.0);
  EXPECT_FALSE(mem.padding().defined());
}

TEST(AppendOnceMemory, RejectsMismatchedWrites) {
  memory::AppendOnceMemory mem(2, 3, 4, 4, DType::F32);
  EXPECT_THROW(mem.write(Tensor::zeros({2, 2, 1, 4}), Tensor::zeros({2, 2, 1, 4})), Error);  // heads
  EXPECT_THROW(mem.write(Tensor::zeros({2, 3, 1, 4}), Tensor::zeros({2, 3, 2, 4})), Error);  // slots
  EXPECT_THROW(mem.write(Tensor::zeros({2, 3, 1, 4}, DType::F64), Tensor::zeros({2, 3, 1, 4}, DType::F64)),
               Error);  // dtype
  EXPECT_THROW(memory::read_memory(Tensor::zeros({2, 3, 1, 4}), mem, 0.5), Error);  // empty memory
}

TEST(ReadHeads, MemoryReadEqualsCausalAttention) {
  // Reading the memory after each write = the causal row of parallel attention.
  Generator g(2);
  const int64_t B = 2, H = 2, T = 6, Dh = 4;
  Tensor q = randn({B, H, T, Dh}, g), k = randn({B, H, T, Dh}, g), v = randn({B, H, T, Dh}, g);
  Tensor weights;
  Tensor parallel = memory::read_parallel(q, k, v, Tensor(), /*causal=*/true, 0.5, &weights);
  memory::AppendOnceMemory mem(B, H, Dh, Dh, DType::F32);
  for (int64_t t = 0; t < T; ++t) {
    mem.write(slice(k, 2, t, t + 1), slice(v, 2, t, t + 1));
    Tensor w;
    Tensor r = memory::read_memory(slice(q, 2, t, t + 1), mem, 0.5, &w);
    EXPECT_LT(max_abs_diff(r, slice(parallel, 2, t, t + 1)), 1e-6);
    EXPECT_LT(max_abs_diff(w, slice(slice(weights, 2, t, t + 1), 3, 0, t + 1)), 1e-6);
  }
}

TEST(ContentAddressing, CosineIsScaleInvariantAndZeroSafe) {
  Generator g(3);
  Tensor q = randn({1, 2, 3, 4}, g), k = randn({1, 2, 5, 4}, g);
  Tensor beta = Tensor::from_vector(std::vector<float>{2.0f, 5.0f}, {2});
  auto a = memory::address(memory::Similarity::Cosine, q, k, beta);
  auto b = memory::address(memory::Similarity::Cosine, mul_scalar(q, 7.0), mul_scalar(k, 3.0), beta);  // (eps inside the norm makes tiny keys differ)
  EXPECT_EQ(a.scale, 1.0);
  EXPECT_LT(max_abs_diff(a.q, b.q), 1e-5);
  EXPECT_LT(max_abs_diff(a.k, b.k), 1e-5);
  // |q̂| = β per head; a zero key stays finite.
  auto n = sum(mul(a.q, a.q), -1).to_doubles();
  for (size_t i = 0; i < n.size(); ++i) EXPECT_NEAR(std::sqrt(n[i]), i < 3 ? 2.0 : 5.0, 1e-4);
  Tensor zk = memory::l2_normalize(Tensor::zeros({2, 4}).requires_grad_());
  for (double x : zk.to_doubles()) EXPECT_TRUE(std::isfinite(x));
  EXPECT_THROW(memory::address(memory::Similarity::Cosine, q, k, Tensor()), Error);
}

TEST(SdncLayer, CosineAddressingGivesTheSameResultInBothForms) {
  Generator g(4);
  models::LayerConfig lc;
  lc.controller = {16, 4, 32, controllers::Activation::Gelu, true, 1e-5, controllers::ParamNaming::Torch, false};
  lc.similarity = memory::Similarity::Cosine;
  models::SdncLayer layer(lc);
  layer.controller->init_uniform(g);
  g.fill_uniform(layer.read_strength, 1.0, 4.0);
  Tensor x = randn({2, 5, 16}, g);
  models::ParallelContext ctx;
  ctx.causal = true;
  Tensor y = layer.forward_parallel(x, ctx);
  models::LayerMemories mem;
  std::vector<Tensor> steps;
  for (int64_t t = 0; t < 5; ++t) steps.push_back(layer.step(slice(x, 1, t, t + 1), mem, true, true));
  EXPECT_LT(max_abs_diff(concat(steps, 1), y), 1e-5);
  // The learned strength receives a gradient.
  sum_all(y).backward();
  ASSERT_TRUE(layer.read_strength.grad().defined());
  double norm = 0;
  for (double v : layer.read_strength.grad().to_doubles()) norm += std::fabs(v);
  EXPECT_GT(norm, 0.0);
}

}  // namespace
}  // namespace sdnc

#include "sdnc/models/gpt2.h"

namespace sdnc {
namespace {

TEST(Gpt2Decode, PrefillOfSeveralTokensThenSingleStepsEqualsParallel) {
  // A prompt written in one step must still be read causally: slot t sees slots <= t.
  Generator g(5);
  models::Gpt2Config c;
  c.vocab_size = 20, c.n_positions = 16, c.n_embd = 16, c.n_layer = 2, c.n_head = 2;
  models::Gpt2Model m(c);
  m.init(g);
  std::vector<int64_t> ids(2 * 9);
  for (auto& v : ids) v = g.randint(0, 20);
  Tensor tokens = Tensor::from_indices(ids, {2, 9});
  NoGradGuard no_grad;
  Tensor parallel = m.logits(tokens);
  models::Gpt2Model::DecodeState state;
  Tensor prefill = m.decode(slice(tokens, 1, 0, 6), state);
  std::vector<Tensor> parts = {prefill};
  for (int64_t t = 6; t < 9; ++t) parts.push_back(m.decode(slice(tokens, 1, t, t + 1), state));
  EXPECT_LT(max_abs_diff(concat(parts, 1), parallel), 1e-5);
}

}  // namespace
}  // namespace sdnc
