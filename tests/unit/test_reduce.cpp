// ops/reduce properties: the first-maximal gradient rule, 0-dim results, keepdim shapes,
// and results that do not depend on the thread count.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "sdnc/sdnc.h"

namespace sdnc {
namespace {

Tensor f64(const std::vector<double>& v, const Shape& s) { return Tensor::from_vector(v, s, DType::F64); }

TEST(Reduce, MaxGradientGoesToTheFirstMaximalElement) {
  Tensor x = f64({1, 3, 3, 2, 5, 5, 5, 0}, {2, 4}).requires_grad_();
  Tensor y = max(x, -1);
  EXPECT_EQ(y.to_doubles(), (std::vector<double>{3, 5}));
  run_backward({y}, {f64({10, 20}, {2})});
  EXPECT_EQ(x.grad().to_doubles(), (std::vector<double>{0, 10, 0, 0, 20, 0, 0, 0}));
}

TEST(Reduce, MaxTiesAlongALeadingAxis) {
  Tensor x = f64({0, 2, 4, 2, 4, 1}, {3, 2}).requires_grad_();
  Tensor y = max(x, 0, true);
  EXPECT_EQ(y.shape(), (Shape{1, 2}));
  EXPECT_EQ(y.to_doubles(), (std::vector<double>{4, 2}));
  run_backward({y}, {Tensor::ones({1, 2}, DType::F64)});
  EXPECT_EQ(x.grad().to_doubles(), (std::vector<double>{0, 1, 1, 0, 0, 0}));
}

TEST(Reduce, MaxPropagatesNaN) {
  double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor y = max(f64({1, nan, 3, 2, 5, 4}, {2, 3}), 1);
  EXPECT_TRUE(std::isnan(y.to_doubles()[0]));
  EXPECT_EQ(y.to_doubles()[1], 5);
}

TEST(Reduce, KeepdimShapes) {
  Tensor x = Tensor::ones({2, 3, 4});
  EXPECT_EQ(sum(x, 1).shape(), (Shape{2, 4}));
  EXPECT_EQ(sum(x, 1, true).shape(), (Shape{2, 1, 4}));
  EXPECT_EQ(mean(x, -1, true).shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(max(x, -3).shape(), (Shape{3, 4}));
  EXPECT_EQ(sum(Tensor::ones({5}), 0).shape(), Shape{});
  EXPECT_EQ(sum(Tensor::ones({5}), 0, true).shape(), Shape{1});
}

TEST(Reduce, SumAllAndMeanAllAreZeroDim) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad_();
  Tensor s = sum_all(x), m = mean_all(x);
  EXPECT_EQ(s.shape(), Shape{});
  EXPECT_EQ(m.shape(), Shape{});
  EXPECT_EQ(s.item(), 21);
  EXPECT_EQ(m.item(), 3.5);
  s.backward();
  EXPECT_EQ(x.grad().to_doubles(), std::vector<double>(6, 1.0));
  x.zero_grad();
  m.backward();
  for (double g : x.grad().to_doubles()) EXPECT_DOUBLE_EQ(g, 1.0 / 6);
}

TEST(Reduce, SumAllOfAZeroDimTensor) {
  Tensor x = Tensor::scalar(2.5, DType::F64).requires_grad_();
  Tensor y = mean_all(x);
  EXPECT_EQ(y.item(), 2.5);
  y.backward();
  EXPECT_EQ(x.grad().shape(), Shape{});
  EXPECT_EQ(x.grad().item(), 1.0);
}

TEST(Reduce, MeanDividesByTheAxisSize) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad_();
  Tensor y = mean(x, 0);
  EXPECT_EQ(y.to_doubles(), (std::vector<double>{2.5, 3.5, 4.5}));
  run_backward({y}, {f64({2, 4, 6}, {3})});
  EXPECT_EQ(x.grad().to_doubles(), (std::vector<double>{1, 2, 3, 1, 2, 3}));
}

TEST(Reduce, F32SumsAccumulateInDouble) {
  const int64_t n = 1 << 20;
  Tensor x = Tensor::full({n}, 0.1);
  double exact = static_cast<double>(0.1f) * n;
  EXPECT_NEAR(sum_all(x).item(), exact, exact * 1e-7);
  EXPECT_NEAR(sum(x.view({1, n}), 1).item(), exact, exact * 1e-7);
  EXPECT_NEAR(sum(x.view({n, 1}), 0).item(), exact, exact * 1e-7);
}

TEST(Reduce, ResultsDoNotDependOnTheThreadCount) {
  Tensor x = Tensor::empty({64, 3001}, DType::F32);
  Generator(3).fill_normal(x, 0.0, 1.0);
  auto run_all = [&] {
    std::vector<std::vector<double>> r;
    r.push_back(sum(x, 0).to_doubles());
    r.push_back(sum(x, 1).to_doubles());
    r.push_back(mean(x.view({8, 8, 3001}), 1).to_doubles());
    r.push_back(max(x, 0).to_doubles());
    r.push_back(max(x, 1).to_doubles());
    r.push_back({sum_all(x).item(), mean_all(x).item()});
    return r;
  };
  int saved = num_threads();
  set_num_threads(1);
  auto one = run_all();
  set_num_threads(3);
  auto three = run_all();
  set_num_threads(saved);
  EXPECT_EQ(one, three);
}

}  // namespace
}  // namespace sdnc
