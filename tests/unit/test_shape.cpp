// ops/shape properties: views, multi-output gradients, repeated-index accumulation,
// I64 data, and results that do not depend on the thread count.
#include <gtest/gtest.h>

#include <limits>

#include "sdnc/sdnc.h"

namespace sdnc {
namespace {

Tensor f64(const std::vector<double>& v, const Shape& s) { return Tensor::from_vector(v, s, DType::F64); }
Tensor ids(std::vector<int64_t> v, const Shape& s) { return Tensor::from_indices(v, s); }

TEST(Shape, ReshapeIsAViewWithAGradient) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad_();
  Tensor y = reshape(x, {3, -1});
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_TRUE(y.same_storage(x));
  EXPECT_EQ(y.to_doubles(), x.to_doubles());
  run_backward({y}, {f64({1, 2, 3, 4, 5, 6}, {3, 2})});
  EXPECT_EQ(x.grad().shape(), (Shape{2, 3}));
  EXPECT_EQ(x.grad().to_doubles(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
}

TEST(Shape, TransposeAndPermuteCopy) {
  Tensor x = f64({0, 1, 2, 3, 4, 5}, {2, 3});
  Tensor t = transpose(x, 0, 1);
  EXPECT_FALSE(t.same_storage(x));
  EXPECT_EQ(t.shape(), (Shape{3, 2}));
  EXPECT_EQ(t.to_doubles(), (std::vector<double>{0, 3, 1, 4, 2, 5}));
  Tensor p = permute(reshape(x, {1, 2, 3}), {2, 0, 1});
  EXPECT_EQ(p.shape(), (Shape{3, 1, 2}));
  EXPECT_EQ(p.to_doubles(), (std::vector<double>{0, 3, 1, 4, 2, 5}));
}

TEST(Shape, LargeTransposeMatchesIndexing) {  // the multithreaded path, both kernels
  const int64_t R = 301, C = 257;
  Tensor x = Tensor::empty({R, C}, DType::F32);
  Generator(1).fill_normal(x, 0.0, 1.0);
  auto xv = x.to_doubles();
  auto tv = transpose(x, 0, 1).to_doubles();
  for (int64_t r = 0; r < R; ++r)
    for (int64_t c = 0; c < C; ++c) ASSERT_EQ(tv[c * R + r], xv[r * C + c]);
  Tensor y = reshape(x, {7, 43, C});
  auto pv = permute(y, {1, 0, 2}).to_doubles();
  for (int64_t a = 0; a < 7; ++a)
    for (int64_t b = 0; b < 43; ++b)
      for (int64_t c = 0; c < C; c += 17) ASSERT_EQ(pv[(b * 7 + a) * C + c], xv[(a * 43 + b) * C + c]);
  auto bv = transpose(y, -1, -2).to_doubles();  // batched [7, 43, C] → [7, C, 43]
  for (int64_t a = 0; a < 7; ++a)
    for (int64_t b = 0; b < 43; ++b)
      for (int64_t c = 0; c < C; ++c) ASSERT_EQ(bv[(a * C + c) * 43 + b], xv[(a * 43 + b) * C + c]);
  auto gv = permute(y, {2, 1, 0}).to_doubles();  // the general element-by-element walk
  for (int64_t a = 0; a < 7; ++a)
    for (int64_t b = 0; b < 43; ++b)
      for (int64_t c = 0; c < C; c += 13) ASSERT_EQ(gv[(c * 43 + b) * 7 + a], xv[(a * 43 + b) * C + c]);
}

TEST(Shape, SliceFollowsPythonBounds) {
  Tensor x = f64({0, 1, 2, 3, 4}, {5});
  EXPECT_EQ(slice(x, 0, -2, std::numeric_limits<int64_t>::max()).to_doubles(), (std::vector<double>{3, 4}));
  EXPECT_EQ(slice(x, 0, std::numeric_limits<int64_t>::min(), 2).to_doubles(), (std::vector<double>{0, 1}));
  EXPECT_EQ(slice(x, -1, 1, -1).to_doubles(), (std::vector<double>{1, 2, 3}));
}

TEST(Shape, SplitOutputsWithoutGradientCountAsZeros) {
  Tensor x = f64({0, 1, 2, 3, 4, 5}, {3, 2}).requires_grad_();
  std::vector<Tensor> parts = split(x, {1, 2}, 0);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].shape(), (Shape{1, 2}));
  EXPECT_EQ(parts[1].to_doubles(), (std::vector<double>{2, 3, 4, 5}));
  EXPECT_EQ(parts[0].grad_fn(), parts[1].grad_fn());  // one node, two outputs
  run_backward({parts[1]}, {f64({1, 2, 3, 4}, {2, 2})});  // parts[0] gets no gradient
  EXPECT_EQ(x.grad().to_doubles(), (std::vector<double>{0, 0, 1, 2, 3, 4}));
}

TEST(Shape, SplitThenConcatRoundTrips) {
  Tensor x = Tensor::empty({4, 5, 3}, DType::F64);
  Generator(5).fill_normal(x, 0.0, 1.0);
  x.requires_grad_();
  Tensor y = concat(split(x, {2, 1, 2}, 1), -2);
  EXPECT_EQ(y.to_doubles(), x.to_doubles());
  Tensor g = Tensor::empty({4, 5, 3}, DType::F64);
  Generator(6).fill_normal(g, 0.0, 1.0);
  run_backward({y}, {g});
  EXPECT_EQ(x.grad().to_doubles(), g.to_doubles());
}

TEST(Shape, ConcatGivesEachInputItsPiece) {
  Tensor a = f64({1, 2}, {2, 1}).requires_grad_();
  Tensor b = f64({3, 4, 5, 6}, {2, 2});  // no gradient wanted
  Tensor y = concat({a, b}, 1);
  EXPECT_EQ(y.to_doubles(), (std::vector<double>{1, 3, 4, 2, 5, 6}));
  run_backward({y}, {f64({10, 11, 12, 20, 21, 22}, {2, 3})});
  EXPECT_EQ(a.grad().to_doubles(), (std::vector<double>{10, 20}));
  EXPECT_FALSE(b.grad().defined());
}

TEST(Shape, RepeatedIndicesAccumulate) {
  Tensor w = f64({1, 2, 3, 4, 5, 6}, {3, 2}).requires_grad_();
  Tensor e = embedding(w, ids({2, 0, 2, 2}, {2, 2}));
  EXPECT_EQ(e.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(e.to_doubles(), (std::vector<double>{5, 6, 1, 2, 5, 6, 5, 6}));
  run_backward({e}, {f64({1, 10, 2, 20, 3, 30, 4, 40}, {2, 2, 2})});
  EXPECT_EQ(w.grad().to_doubles(), (std::vector<double>{2, 20, 0, 0, 8, 80}));

  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad_();
  Tensor s = index_select(x, 1, ids({1, 1, 0}, {3}));
  EXPECT_EQ(s.to_doubles(), (std::vector<double>{2, 2, 1, 5, 5, 4}));
  run_backward({s}, {f64({1, 2, 3, 4, 5, 6}, {2, 3})});
  EXPECT_EQ(x.grad().to_doubles(), (std::vector<double>{3, 3, 0, 6, 9, 0}));
}

TEST(Shape, GatherScatterAddsRepeats) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad_();
  Tensor y = gather(x, 1, ids({2, 2, 0, 1}, {2, 2}));
  EXPECT_EQ(y.to_doubles(), (std::vector<double>{3, 3, 4, 5}));
  run_backward({y}, {f64({1, 2, 3, 4}, {2, 2})});
  EXPECT_EQ(x.grad().to_doubles(), (std::vector<double>{0, 0, 3, 3, 4, 0}));
}

TEST(Shape, IndexTensorsCanBeReshapedAndCut) {
  Tensor tokens = ids({0, 1, 2, 3, 4, 5}, {2, 3});
  EXPECT_EQ(transpose(tokens, 0, 1).to_indices(), (std::vector<int64_t>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(slice(tokens, 1, 1, 3).to_indices(), (std::vector<int64_t>{1, 2, 4, 5}));
  EXPECT_EQ(concat({tokens, tokens}, 0).to_indices(), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(index_select(tokens, 0, ids({1}, {1})).to_indices(), (std::vector<int64_t>{3, 4, 5}));
  EXPECT_EQ(gather(tokens, 1, ids({2, 0}, {2, 1})).to_indices(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(reshape(tokens, {-1}).dtype(), DType::I64);
  EXPECT_EQ(split(tokens, {1, 2}, 1)[1].to_indices(), (std::vector<int64_t>{1, 2, 4, 5}));
}

TEST(Shape, ScatterAddsDoNotDependOnTheThreadCount) {
  const int64_t V = 50, D = 33, P = 20000;
  Tensor w = Tensor::empty({V, D}, DType::F32);
  Generator(9).fill_normal(w, 0.0, 1.0);
  w.requires_grad_();
  Tensor idx = Tensor::empty({P}, DType::I64);
  Generator gen(10);
  for (int64_t p = 0; p < P; ++p) idx.data<int64_t>()[p] = gen.randint(0, V);
  Tensor g = Tensor::empty({P, D}, DType::F32);
  Generator(11).fill_normal(g, 0.0, 1.0);
  Tensor gidx = Tensor::empty({P / 4, D}, DType::I64);
  for (int64_t j = 0; j < gidx.numel(); ++j) gidx.data<int64_t>()[j] = gen.randint(0, V);
  Tensor gg = Tensor::empty({P / 4, D}, DType::F32);
  Generator(12).fill_normal(gg, 0.0, 1.0);

  auto grads = [&] {
    std::vector<std::vector<double>> r;
    for (int which = 0; which < 3; ++which) {
      w.zero_grad();
      if (which == 0) run_backward({embedding(w, idx)}, {g});
      if (which == 1) run_backward({index_select(w, 0, idx)}, {g});
      if (which == 2) run_backward({gather(w, 0, gidx)}, {gg});
      r.push_back(w.grad().to_doubles());
    }
    return r;
  };
  int saved = num_threads();
  set_num_threads(1);
  auto one = grads();
  set_num_threads(4);
  auto four = grads();
  set_num_threads(saved);
  EXPECT_EQ(one, four);
  EXPECT_EQ(one[0], one[1]);  // embedding is index_select along axis 0
}

}  // namespace
}  // namespace sdnc
