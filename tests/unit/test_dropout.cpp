// Properties of ops/dropout that no PyTorch twin can check (its RNG differs from torch's):
// the dropped fraction, the 1/(1-p) scale, the gradient, seeding, and thread-count
// independence of the mask.
#include <gtest/gtest.h>

#include <cmath>

#include "sdnc/sdnc.h"

namespace sdnc {
namespace {

Tensor normal(const Shape& s, uint64_t seed, DType dt = DType::F64) {
  Tensor t = Tensor::empty(s, DType::F64);
  Generator(seed).fill_normal(t, 0.0, 1.0);
  return t.to(dt);
}

TEST(Dropout, DroppedFractionIsP) {
  // n = 200000 Bernoulli draws: the dropped fraction has standard deviation
  // sqrt(p(1-p)/n) ≤ 0.00112; allow 5 standard deviations.
  const int64_t n = 200000;
  for (double p : {0.1, 0.3, 0.5, 0.9}) {
    Generator gen(42);
    Tensor y = dropout(Tensor::ones({n}), p, true, gen);
    int64_t dropped = 0;
    for (double v : y.to_doubles()) dropped += v == 0.0;
    double frac = static_cast<double>(dropped) / n, bound = 5.0 * std::sqrt(p * (1 - p) / n);
    EXPECT_NEAR(frac, p, bound) << "p = " << p;
  }
}

TEST(Dropout, KeptValuesAreScaledByOneOverKeep) {
  for (DType dt : {DType::F32, DType::F64}) {
    const double p = 0.25;
    Tensor x = normal({64, 33}, 3, dt);
    Generator gen(9);
    Tensor y = dropout(x, p, true, gen);
    auto xv = x.to_doubles(), yv = y.to_doubles();
    int64_t kept = 0;
    for (size_t i = 0; i < xv.size(); ++i) {
      if (yv[i] == 0.0) continue;
      ++kept;
      double expected = xv[i] * (1.0 / (1.0 - p));
      EXPECT_NEAR(yv[i], expected, std::fabs(expected) * (dt == DType::F32 ? 2e-7 : 1e-15)) << i;
    }
    EXPECT_GT(kept, 0);
  }
}

TEST(Dropout, GradientIsMaskOverKeep) {
  const double p = 0.4;
  Tensor x = normal({10, 20}, 5).requires_grad_();
  Generator gen(17);
  Tensor y = dropout(x, p, true, gen);
  Tensor g = normal({10, 20}, 6);
  run_backward({y}, {g});
  auto yv = y.to_doubles(), gv = g.to_doubles(), dx = x.grad().to_doubles();
  for (size_t i = 0; i < yv.size(); ++i) {
    double mask = yv[i] != 0.0 ? 1.0 / (1.0 - p) : 0.0;  // x is never exactly 0 here
    EXPECT_DOUBLE_EQ(dx[i], gv[i] * mask) << i;
  }
}

TEST(Dropout, MaskIsFillBernoulliOfKeepProbability) {
  // The documented convention: element i is kept when counter offset + i draws u < 1 - p.
  const double p = 0.35;
  Tensor x = Tensor::ones({1000}, DType::F64);
  Generator gen(123);
  gen.next_u64();  // start from a non-zero offset
  Generator twin = gen;
  Tensor y = dropout(x, p, true, gen);
  Tensor mask = Tensor::zeros({1000}, DType::F64);
  twin.fill_bernoulli(mask, 1.0 - p);
  auto yv = y.to_doubles(), mv = mask.to_doubles();
  for (size_t i = 0; i < yv.size(); ++i) EXPECT_EQ(yv[i] != 0.0, mv[i] == 1.0) << i;
  EXPECT_EQ(gen.offset(), twin.offset());
}

TEST(Dropout, SameSeedSameMaskAndTheStreamAdvances) {
  Tensor x = normal({300}, 1);
  Generator a(77), b(77), c(78);
  Tensor ya = dropout(x, 0.5, true, a), yb = dropout(x, 0.5, true, b), yc = dropout(x, 0.5, true, c);
  EXPECT_EQ(ya.to_doubles(), yb.to_doubles());
  EXPECT_NE(ya.to_doubles(), yc.to_doubles());
  EXPECT_EQ(a.offset(), 300u);
  Tensor ya2 = dropout(x, 0.5, true, a);  // the next call draws fresh counters
  EXPECT_NE(ya.to_doubles(), ya2.to_doubles());
  EXPECT_EQ(a.offset(), 600u);
}

TEST(Dropout, MaskDoesNotDependOnThreadCount) {
  // Large enough that parallel_for really splits the work (grain 4096).
  int saved = num_threads();
  Tensor x = Tensor::ones({1 << 17});
  std::vector<std::vector<double>> results;
  for (int threads : {1, 2, 4}) {
    set_num_threads(threads);
    Generator gen(2024);
    results.push_back(dropout(x, 0.3, true, gen).to_doubles());
  }
  set_num_threads(saved);
  EXPECT_EQ(results[0], results[1]);
  EXPECT_EQ(results[0], results[2]);
}

TEST(Dropout, IdentityWhenEvaluatingOrPZero) {
  Tensor x = normal({4, 5}, 2).requires_grad_();
  Generator gen(5);
  for (auto [p, training] : {std::pair{0.5, false}, std::pair{0.0, true}, std::pair{1.0, false}}) {
    Tensor y = dropout(x, p, training, gen);
    EXPECT_TRUE(y.same_storage(x));
    EXPECT_EQ(y.to_doubles(), x.to_doubles());
  }
  EXPECT_EQ(gen.offset(), 0u) << "identity dropout must not consume random numbers";
}

TEST(Dropout, POneGivesZerosAndZeroGradient) {
  Tensor x = normal({3, 4}, 8).requires_grad_();
  Generator gen(5);
  Tensor y = dropout(x, 1.0, true, gen);
  for (double v : y.to_doubles()) EXPECT_EQ(v, 0.0);
  run_backward({y}, {Tensor::ones({3, 4}, DType::F64)});
  for (double v : x.grad().to_doubles()) EXPECT_EQ(v, 0.0);
}

}  // namespace
}  // namespace sdnc
