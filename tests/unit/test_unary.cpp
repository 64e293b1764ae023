// ops/unary properties: finite results for extreme inputs, gradients at kinks, and what
// each node keeps alive for its backward.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>

#include "sdnc/sdnc.h"

namespace sdnc {
namespace {

bool all_finite(const Tensor& t) {
  for (double v : t.to_doubles())
    if (!std::isfinite(v)) return false;
  return true;
}

// Output and input gradient (cotangent 1) of f at values, in dtype.
std::pair<Tensor, Tensor> run(const std::function<Tensor(const Tensor&)>& f, const std::vector<double>& values,
                              DType dtype) {
  Tensor x = Tensor::from_vector(values, {static_cast<int64_t>(values.size())}, dtype).requires_grad_();
  Tensor y = f(x);
  run_backward({y}, {Tensor::ones(y.shape(), dtype)});
  return {y, x.grad()};
}

TEST(Unary, ExtremeInputsGiveNoNaN) {
  const double fmax = std::numeric_limits<float>::max();
  std::vector<std::pair<const char*, std::function<Tensor(const Tensor&)>>> ops = {
      {"tanh", [](const Tensor& x) { return tanh(x); }},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }},
      {"softplus", [](const Tensor& x) { return softplus(x); }},
      {"gelu", [](const Tensor& x) { return gelu(x); }},
      {"gelu_tanh", [](const Tensor& x) { return gelu(x, true); }},
      {"relu", [](const Tensor& x) { return relu(x); }},
      {"clamp", [](const Tensor& x) { return clamp(x, -3.0, 3.0); }},
  };
  for (DType dtype : {DType::F32, DType::F64}) {
    double big = dtype == DType::F32 ? fmax : 1e300;
    std::vector<double> values = {-big, -1e30, -1e4, -100, -30, 0, 30, 100, 1e4, 1e30, big};
    for (auto& [name, f] : ops) {
      auto [y, g] = run(f, values, dtype);
      EXPECT_TRUE(all_finite(y)) << name << " " << dtype_name(dtype) << " output";
      EXPECT_TRUE(all_finite(g)) << name << " " << dtype_name(dtype) << " gradient";
    }
  }
}

TEST(Unary, SaturatedValuesAreExact) {
  for (DType dtype : {DType::F32, DType::F64}) {
    auto [s, ds] = run([](const Tensor& x) { return sigmoid(x); }, {-1000, 1000}, dtype);
    EXPECT_EQ(s.to_doubles(), (std::vector<double>{0, 1}));
    EXPECT_EQ(ds.to_doubles(), (std::vector<double>{0, 0}));
    auto [sp, dsp] = run([](const Tensor& x) { return softplus(x); }, {-1000, 1000}, dtype);
    EXPECT_EQ(sp.to_doubles(), (std::vector<double>{0, 1000}));
    EXPECT_EQ(dsp.to_doubles(), (std::vector<double>{0, 1}));
    auto [t, dt] = run([](const Tensor& x) { return tanh(x); }, {-1000, 1000}, dtype);
    EXPECT_EQ(t.to_doubles(), (std::vector<double>{-1, 1}));
    EXPECT_EQ(dt.to_doubles(), (std::vector<double>{0, 0}));
  }
}

TEST(Unary, ExpOverflowsOnlyToInfinity) {
  auto [y, g] = run([](const Tensor& x) { return exp(x); }, {-1000, 88, 89, 1000}, DType::F32);
  auto v = y.to_doubles();
  EXPECT_EQ(v[0], 0.0);
  EXPECT_TRUE(std::isfinite(v[1]));
  EXPECT_TRUE(std::isinf(v[2]) && v[2] > 0);
  EXPECT_TRUE(std::isinf(v[3]) && v[3] > 0);
  for (double d : g.to_doubles()) EXPECT_FALSE(std::isnan(d));
}

TEST(Unary, SoftplusAtZeroIsLog2) {
  auto [y, g] = run([](const Tensor& x) { return softplus(x); }, {0}, DType::F64);
  EXPECT_DOUBLE_EQ(y.item(), std::log(2.0));
  EXPECT_DOUBLE_EQ(g.item(), 0.5);
}

TEST(Unary, ClampGradientIncludesTheBounds) {
  auto [y, g] = run([](const Tensor& x) { return clamp(x, -0.5, 0.75); }, {-1, -0.5, 0, 0.75, 2}, DType::F64);
  EXPECT_EQ(y.to_doubles(), (std::vector<double>{-0.5, -0.5, 0, 0.75, 0.75}));
  EXPECT_EQ(g.to_doubles(), (std::vector<double>{0, 1, 1, 1, 0}));
}

TEST(Unary, ClampToAPoint) {
  auto [y, g] = run([](const Tensor& x) { return clamp(x, 1.0, 1.0); }, {0, 1, 2}, DType::F32);
  EXPECT_EQ(y.to_doubles(), (std::vector<double>{1, 1, 1}));
  EXPECT_EQ(g.to_doubles(), (std::vector<double>{0, 1, 0}));
}

TEST(Unary, ReluGradientAtZeroIsZero) {
  auto [y, g] = run([](const Tensor& x) { return relu(x); }, {-1, 0, 2}, DType::F64);
  EXPECT_EQ(y.to_doubles(), (std::vector<double>{0, 0, 2}));
  EXPECT_EQ(g.to_doubles(), (std::vector<double>{0, 0, 1}));
}

TEST(Unary, NanPropagatesThroughReluAndClamp) {
  double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(std::isnan(relu(Tensor::from_vector({nan}, {1}, DType::F64)).item()));
  EXPECT_TRUE(std::isnan(clamp(Tensor::from_vector({nan}, {1}, DType::F64), 0, 1).item()));
}

TEST(Unary, GeluFormsAgreeRoughly) {
  std::vector<double> v;
  for (int i = -40; i <= 40; ++i) v.push_back(i * 0.1);
  Tensor x = Tensor::from_vector(v, {static_cast<int64_t>(v.size())}, DType::F64);
  auto a = gelu(x).to_doubles(), b = gelu(x, true).to_doubles();
  for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-3) << v[i];
  EXPECT_EQ(gelu(Tensor::scalar(0.0, DType::F64)).item(), 0.0);
}

// F32 GELU (erf form, the vectorised erfc_f32) against ½x·erfc(−x/√2) in double (libm) on a
// sweep of [−14, 14] every 2^−10 (28,673 values): relative error ≤ 1e-6 + 3e-7·z² (z = x/√2:
// rounding z and z² to F32 moves erfc's e^−z² by ~2z²·2^−24, for libm's erfcf as well), and
// results below F32's normal range (2e-38) may be 0; and the special values.
TEST(Unary, GeluF32MatchesLibmInDouble) {
  std::vector<float> v;
  for (int i = -14 * 1024; i <= 14 * 1024; ++i) v.push_back(static_cast<float>(i) / 1024.f);
  const float inf = std::numeric_limits<float>::infinity();
  v.insert(v.end(), {1e-30f, -1e-30f, 1e30f, -20.f, -100.f, inf});
  std::vector<double> vd(v.begin(), v.end());
  Tensor x = Tensor::from_vector(vd, {static_cast<int64_t>(v.size())}, DType::F32);
  const std::vector<double> y = gelu(x).to_doubles();
  double worst = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const double xd = v[i], ref = 0.5 * xd * std::erfc(-xd * 0.70710678118654752440);
    if (std::isinf(ref)) { EXPECT_EQ(y[i], ref) << xd; continue; }
    const double err = std::fabs(y[i] - ref), bound = (1e-6 + 3e-7 * xd * xd / 2) * std::fabs(ref);
    if (std::fabs(ref) > 2e-38) worst = std::max(worst, err / bound);
    ASSERT_LE(err, bound + 2e-38) << "x " << xd << " got " << y[i] << " ref " << ref;
  }
  std::printf("gelu f32 vs double: max error / bound %.3f\n", worst);
  EXPECT_TRUE(std::isnan(gelu(Tensor::from_vector({std::nan("")}, {1}, DType::F32)).item()));
}

// Whether the graph of f(x) keeps x's storage alive after x itself is dropped: ops that
// save their output must not hold on to the input.
bool graph_keeps_input(const std::function<Tensor(const Tensor&)>& f) {
  Tensor leaf = Tensor::full({8}, 0.5).requires_grad_();
  Tensor x = mul_scalar(leaf, 2.0);  // an intermediate that only the graph could keep
  Tensor y = f(x);
  std::weak_ptr<Storage> storage = x.impl().storage;
  x = Tensor();
  bool kept = !storage.expired();
  run_backward({y}, {Tensor::ones(y.shape())});
  EXPECT_TRUE(leaf.grad().defined());
  EXPECT_TRUE(storage.expired()) << "backward did not release what the node saved";
  return kept;
}

TEST(Unary, NodesSaveOnlyWhatBackwardNeeds) {
  EXPECT_FALSE(graph_keeps_input([](const Tensor& x) { return neg(x); }));
  EXPECT_FALSE(graph_keeps_input([](const Tensor& x) { return exp(x); }));
  EXPECT_FALSE(graph_keeps_input([](const Tensor& x) { return sqrt(x); }));
  EXPECT_FALSE(graph_keeps_input([](const Tensor& x) { return tanh(x); }));
  EXPECT_FALSE(graph_keeps_input([](const Tensor& x) { return sigmoid(x); }));
  EXPECT_FALSE(graph_keeps_input([](const Tensor& x) { return relu(x); }));
  EXPECT_TRUE(graph_keeps_input([](const Tensor& x) { return log(x); }));
  EXPECT_TRUE(graph_keeps_input([](const Tensor& x) { return softplus(x); }));
  EXPECT_TRUE(graph_keeps_input([](const Tensor& x) { return gelu(x); }));
  EXPECT_TRUE(graph_keeps_input([](const Tensor& x) { return clamp(x, 0.0, 2.0); }));
}

TEST(Unary, NoGraphWithoutGrad) {
  Tensor x = Tensor::ones({3});
  EXPECT_EQ(exp(x).grad_fn(), nullptr);
  Tensor w = Tensor::ones({3}).requires_grad_();
  NoGradGuard guard;
  EXPECT_EQ(tanh(w).grad_fn(), nullptr);
}

TEST(Unary, LargeTensorMatchesElementwiseReference) {  // the multithreaded path
  const int64_t n = 100003;
  Tensor x = Tensor::empty({n}, DType::F64);
  Generator(7).fill_uniform(x, -30, 30);
  auto xs = x.to_doubles();
  auto y = softplus(x).to_doubles();
  for (int64_t i = 0; i < n; i += 997) EXPECT_NEAR(y[i], std::log1p(std::exp(xs[i])), 1e-12 * (1 + std::fabs(y[i])));
}

}  // namespace
}  // namespace sdnc
