// test_gradcheck.cpp — central finite differences in double precision for every case of the
// op table: d/dx Σ_k <out_k, R_k> numerically vs the analytic backward.
#include <gtest/gtest.h>

#include <cmath>

#include "harness.h"

namespace sdnc::test {
namespace {

double weighted_sum(const std::vector<Tensor>& outs, const std::vector<Tensor>& weights) {
  double s = 0;
  for (size_t k = 0; k < outs.size(); ++k) {
    auto o = outs[k].to_doubles(), w = weights[k].to_doubles();
    for (size_t i = 0; i < o.size(); ++i) s += o[i] * w[i];
  }
  return s;
}

class GradCheck : public ::testing::TestWithParam<OpCase> {};

TEST_P(GradCheck, FiniteDifferencesMatchBackward) {
  const OpCase& c = GetParam();
  if (!c.fd) GTEST_SKIP() << c.name << " is not differentiable by finite differences (see its case)";
  std::vector<Tensor> inputs = make_inputs(c);
  for (size_t i = 0; i < inputs.size(); ++i)
    if (c.inputs[i].grad) inputs[i].requires_grad_(true);

  // Analytic: backward of Σ <out_k, R_k> with fixed random cotangents R_k.
  std::vector<Tensor> outs = run_case(c, inputs);
  Generator gen(12345);
  std::vector<Tensor> cotangents;
  for (auto& o : outs) {
    Tensor r = Tensor::empty(o.shape(), DType::F64);
    gen.fill_normal(r, 0.0, 1.0);
    cotangents.push_back(r);
  }
  run_backward(outs, cotangents);

  NoGradGuard no_grad;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!c.inputs[i].grad) continue;
    Tensor analytic = inputs[i].grad();
    ASSERT_TRUE(analytic.defined()) << c.name << ": no gradient reached input " << i;
    double* x = inputs[i].data<double>();
    auto a = analytic.to_doubles();
    double max_err = 0;
    for (int64_t j = 0; j < inputs[i].numel(); ++j) {
      double saved = x[j], h = 1e-6 * std::max(1.0, std::fabs(saved));
      x[j] = saved + h;
      double plus = weighted_sum(run_case(c, inputs), cotangents);
      x[j] = saved - h;
      double minus = weighted_sum(run_case(c, inputs), cotangents);
      x[j] = saved;
      double numeric = (plus - minus) / (2 * h);
      double err = std::fabs(numeric - a[j]) / (1.0 + std::fabs(numeric));
      max_err = std::max(max_err, err);
      EXPECT_LE(err, c.fd_tol) << c.name << " input " << i << " element " << j << ": numeric " << numeric
                               << " vs analytic " << a[j];
    }
    std::printf("[gradcheck] %-32s input %zu: max error %.2e (tol %.0e)\n", c.name.c_str(), i, max_err, c.fd_tol);
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, GradCheck, ::testing::ValuesIn(all_cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace sdnc::test
