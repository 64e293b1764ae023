// RNG: reproducible streams, independent of the thread count, with the right moments.
#include <gtest/gtest.h>

#include <cmath>

#include "sdnc/sdnc.h"

namespace sdnc {
namespace {

std::vector<double> draw_normal(uint64_t seed, int threads) {
  set_num_threads(threads);
  Generator g(seed);
  Tensor t = Tensor::empty({100000});
  g.fill_normal(t, 0.0, 1.0);
  set_num_threads(2);
  return t.to_doubles();
}

TEST(Rng, SameSeedSameStreamAcrossThreadCounts) {
  EXPECT_EQ(draw_normal(7, 1), draw_normal(7, 2));
  EXPECT_NE(draw_normal(7, 2), draw_normal(8, 2));
}

TEST(Rng, ConsecutiveFillsContinueTheStream) {
  Generator a(3), b(3);
  Tensor x = Tensor::empty({10}, DType::F64), y = Tensor::empty({10}, DType::F64);
  a.fill_uniform(x, 0, 1);
  a.fill_uniform(y, 0, 1);
  Tensor both = Tensor::empty({20}, DType::F64);
  b.fill_uniform(both, 0, 1);
  auto v = both.to_doubles();
  EXPECT_EQ(std::vector<double>(v.begin(), v.begin() + 10), x.to_doubles());
  EXPECT_EQ(std::vector<double>(v.begin() + 10, v.end()), y.to_doubles());
  EXPECT_EQ(a.offset(), b.offset());
}

TEST(Rng, StateRoundTrips) {
  Generator a(11);
  a.uniform();
  Generator b;
  b.set_state(a.seed(), a.offset());
  EXPECT_EQ(a.next_u64(), b.next_u64());
}

TEST(Rng, MomentsAreRight) {
  auto v = draw_normal(1, 2);
  double mean = 0, var = 0;
  for (double x : v) mean += x;
  mean /= v.size();
  for (double x : v) var += (x - mean) * (x - mean);
  var /= v.size();
  // Standard error of the mean is 1/sqrt(1e5) ≈ 0.003; of the variance ≈ 0.0045.
  EXPECT_NEAR(mean, 0.0, 0.015);
  EXPECT_NEAR(var, 1.0, 0.025);

  Generator g(2);
  Tensor u = Tensor::empty({100000}, DType::F64);
  g.fill_uniform(u, -2, 3);
  for (double x : u.to_doubles()) ASSERT_TRUE(x >= -2 && x < 3);
  Tensor tn = Tensor::empty({100000}, DType::F64);
  g.fill_truncated_normal(tn, 1.0, 0.5);
  for (double x : tn.to_doubles()) ASSERT_TRUE(x >= 0.0 && x <= 2.0);
}

TEST(Rng, RandintStaysInRange) {
  Generator g(5);
  for (int i = 0; i < 1000; ++i) {
    int64_t v = g.randint(-3, 4);
    ASSERT_GE(v, -3);
    ASSERT_LT(v, 4);
  }
  EXPECT_THROW(g.randint(2, 2), Error);
}

}  // namespace
}  // namespace sdnc
