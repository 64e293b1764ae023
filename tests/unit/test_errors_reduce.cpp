// Every check of ops/reduce throws sdnc::Error whose message starts with "[op]".
#include <gtest/gtest.h>

#include <functional>

#include "common/expect_error.h"
#include "sdnc/sdnc.h"

namespace sdnc {
namespace {


struct ReduceCase {
  const char* name;
  std::function<Tensor(const Tensor&, int64_t)> fn;
};

std::vector<ReduceCase> axis_reductions() {
  return {
      {"sum", [](const Tensor& x, int64_t a) { return sum(x, a); }},
      {"sum", [](const Tensor& x, int64_t a) { return sum(x, a, true); }},
      {"mean", [](const Tensor& x, int64_t a) { return mean(x, a); }},
      {"max", [](const Tensor& x, int64_t a) { return max(x, a, true); }},
  };
}

std::vector<ReduceCase> all_reductions() {
  auto v = axis_reductions();
  v.push_back({"sum_all", [](const Tensor& x, int64_t) { return sum_all(x); }});
  v.push_back({"mean_all", [](const Tensor& x, int64_t) { return mean_all(x); }});
  return v;
}

TEST(ReduceErrors, UndefinedInput) {
  for (auto& c : all_reductions()) expect_error([&] { c.fn(Tensor(), 0); }, c.name, "undefined");
}

TEST(ReduceErrors, IntegerInput) {
  Tensor idx = Tensor::from_indices({1, 2}, {2});
  for (auto& c : all_reductions()) expect_error([&] { c.fn(idx, 0); }, c.name, "I64");
}

TEST(ReduceErrors, EmptyInput) {
  Tensor t = Tensor::empty({0, 4});
  for (auto& c : all_reductions()) expect_error([&] { c.fn(t, 1); }, c.name, "empty");
}

TEST(ReduceErrors, AxisTooLarge) {
  for (auto& c : axis_reductions()) expect_error([&] { c.fn(Tensor::ones({2, 3}), 2); }, c.name, "axis 2");
}

TEST(ReduceErrors, AxisTooNegative) {
  for (auto& c : axis_reductions()) expect_error([&] { c.fn(Tensor::ones({2, 3}), -3); }, c.name, "axis -3");
}

TEST(ReduceErrors, AxisOfZeroDimTensor) {
  for (auto& c : axis_reductions()) expect_error([&] { c.fn(Tensor::scalar(1.0), 0); }, c.name, "0 dims");
}

}  // namespace
}  // namespace sdnc
