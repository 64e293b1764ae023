// Every check of ops/unary throws sdnc::Error whose message starts with "[op]".
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "common/expect_error.h"
#include "sdnc/sdnc.h"

namespace sdnc {
namespace {


struct UnaryCase {
  const char* name;
  std::function<Tensor(const Tensor&)> fn;
};

std::vector<UnaryCase> all_unary() {
  return {
      {"neg", [](const Tensor& x) { return neg(x); }},
      {"exp", [](const Tensor& x) { return exp(x); }},
      {"log", [](const Tensor& x) { return log(x); }},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }},
      {"tanh", [](const Tensor& x) { return tanh(x); }},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }},
      {"softplus", [](const Tensor& x) { return softplus(x); }},
      {"relu", [](const Tensor& x) { return relu(x); }},
      {"gelu", [](const Tensor& x) { return gelu(x); }},
      {"gelu", [](const Tensor& x) { return gelu(x, true); }},
      {"clamp", [](const Tensor& x) { return clamp(x, -1.0, 1.0); }},
  };
}

TEST(UnaryErrors, UndefinedInput) {
  for (auto& c : all_unary()) expect_error([&] { c.fn(Tensor()); }, c.name, "undefined");
}

TEST(UnaryErrors, IntegerInput) {
  Tensor idx = Tensor::from_indices({1, 2}, {2});
  for (auto& c : all_unary()) expect_error([&] { c.fn(idx); }, c.name, "I64");
}

TEST(UnaryErrors, Bf16InputHasNoKernel) {
  Tensor t = Tensor::empty({2}, DType::BF16);
  for (auto& c : all_unary()) expect_error([&] { c.fn(t); }, c.name, "BF16");
}

TEST(UnaryErrors, EmptyInput) {
  Tensor t = Tensor::empty({3, 0});
  for (auto& c : all_unary()) expect_error([&] { c.fn(t); }, c.name, "empty");
}

TEST(UnaryErrors, ClampLowAboveHigh) {
  expect_error([] { clamp(Tensor::ones({2}), 1.0, -1.0); }, "clamp", "lo 1 > hi -1");
}

TEST(UnaryErrors, ClampNanBound) {
  expect_error([] { clamp(Tensor::ones({2}), std::nan(""), 1.0); }, "clamp", "NaN");
  expect_error([] { clamp(Tensor::ones({2}), 0.0, std::nan("")); }, "clamp", "NaN");
}

}  // namespace
}  // namespace sdnc
