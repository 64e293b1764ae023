// Product gradients with zero factors (DNC.md A.12): prefix/suffix products, never
// division, so one or several zeros give finite, exact gradients.
#include <gtest/gtest.h>

#include <cmath>

#include "sdnc/sdnc.h"

namespace sdnc {
namespace {

std::vector<double> prod_grad(const std::vector<double>& v, DType dt) {
  Tensor x = Tensor::from_vector(v, {static_cast<int64_t>(v.size())}, dt).requires_grad_();
  prod(x, 0).backward();
  return x.grad().to_doubles();
}

TEST(Prod, GradientWithExactlyOneZero) {
  // d/dx_j Π x = Π_{k≠j} x_k: only the zero's own entry is non-zero: 2 · (-3) · 0.5 = -3.
  for (DType dt : {DType::F32, DType::F64}) {
    auto g = prod_grad({2.0, -3.0, 0.0, 0.5}, dt);
    std::vector<double> expected = {0.0, 0.0, -3.0, 0.0};
    for (size_t j = 0; j < g.size(); ++j) EXPECT_EQ(g[j], expected[j]) << j;
  }
}

TEST(Prod, GradientWithExactlyTwoZeros) {
  // Every Π_{k≠j} x_k contains a zero: the gradient is exactly 0 everywhere (not NaN).
  for (DType dt : {DType::F32, DType::F64}) {
    auto g = prod_grad({0.0, 4.0, 0.0, -1.5, 2.0}, dt);
    for (double e : g) EXPECT_EQ(e, 0.0);
  }
}

TEST(Prod, GradientWithoutZerosIsTheClosedForm) {
  std::vector<double> v = {1.5, -2.0, 0.25, 3.0};
  auto g = prod_grad(v, DType::F64);
  for (size_t j = 0; j < v.size(); ++j) {
    double expected = 1.0;
    for (size_t k = 0; k < v.size(); ++k)
      if (k != j) expected *= v[k];
    EXPECT_DOUBLE_EQ(g[j], expected) << j;
  }
}

TEST(Cumprod, GradientWithZerosIsTheClosedForm) {
  // dL/dx_j = Σ_{i>=j} g_i Π_{k<=i, k≠j} x_k (inclusive), Σ_{i>j} g_i Π_{k<i, k≠j} x_k (exclusive).
  std::vector<double> v = {1.5, 0.0, 2.0, 0.0, -1.25}, g = {0.3, -1.0, 2.0, 0.5, 1.5};
  int64_t n = static_cast<int64_t>(v.size());
  for (bool exclusive : {false, true}) {
    Tensor x = Tensor::from_vector(v, {n}, DType::F64).requires_grad_();
    run_backward({cumprod(x, 0, exclusive)}, {Tensor::from_vector(g, {n}, DType::F64)});
    auto dx = x.grad().to_doubles();
    for (int64_t j = 0; j < n; ++j) {
      double expected = 0.0;
      for (int64_t i = exclusive ? j + 1 : j; i < n; ++i) {
        double term = g[i];
        for (int64_t k = 0; k < (exclusive ? i : i + 1); ++k)
          if (k != j) term *= v[k];
        expected += term;
      }
      EXPECT_DOUBLE_EQ(dx[j], expected) << (exclusive ? "exclusive" : "inclusive") << " j=" << j;
      EXPECT_TRUE(std::isfinite(dx[j]));
    }
  }
}

TEST(Cumprod, ExclusiveStartsAtOne) {
  Tensor x = Tensor::from_vector(std::vector<double>{2, 3, 4, 5, 6, 7}, {2, 3}, DType::F64);
  EXPECT_EQ(cumprod(x, 1, true).to_doubles(), (std::vector<double>{1, 2, 6, 1, 5, 30}));
  EXPECT_EQ(cumprod(x, 0, true).to_doubles(), (std::vector<double>{1, 1, 1, 2, 3, 4}));
  EXPECT_EQ(cumprod(x, -1).to_doubles(), (std::vector<double>{2, 6, 24, 5, 30, 210}));
}

}  // namespace
}  // namespace sdnc
