// ops/sequence_weights.h: the weight gradient of a sequence's steps as one GEMM. Oracles: the
// unbatched ops (lstm_cell, linear: each step's own dW, summed by the engine) and central
// finite differences, all in F64.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "common/expect_error.h"
#include "sdnc/autograd/engine.h"
#include "sdnc/controllers/recurrent_controller.h"
#include "sdnc/sdnc.h"

namespace sdnc {
namespace {

Tensor random(Generator& g, const Shape& shape, bool grad = false) {
  Tensor t = Tensor::zeros(shape, DType::F64);
  g.fill_normal(t, 0.0, 0.5);
  if (grad) t.requires_grad_();
  return t;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  auto x = a.to_doubles(), y = b.to_doubles();
  double m = 0;
  for (size_t i = 0; i < x.size(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
  return m;
}

constexpr int64_t B = 3, X = 4, Hd = 5, T = 6;

struct Lstm {
  Tensor w_ih, w_hh, bias;
  std::vector<Tensor> xs, targets;
  explicit Lstm(Generator& g) {
    w_ih = random(g, {4 * Hd, X}, true), w_hh = random(g, {4 * Hd, Hd}, true), bias = random(g, {4 * Hd}, true);
    for (int64_t t = 0; t < T; ++t) xs.push_back(random(g, {B, X})), targets.push_back(random(g, {B, Hd}));
  }
  // Σ_{t < last} Σ h_t·target_t over the steps 0..T−1 (steps ≥ last built but not in the loss),
  // unbatched or with one SequenceWeights for the whole sequence.
  Tensor loss(bool batched, int64_t last = T) const {
    auto seq = batched ? SequenceWeights::make({w_ih, w_hh}, bias) : nullptr;
    Tensor h = Tensor::zeros({B, Hd}, DType::F64), c = h, total = Tensor::scalar(0.0, DType::F64);
    for (int64_t t = 0; t < T; ++t) {
      auto hc = seq ? lstm_cell(xs[t], h, c, *seq, 1.0) : lstm_cell(xs[t], h, c, w_ih, w_hh, bias, 1.0);
      h = hc[0], c = hc[1];
      if (t < last) total = add(total, sum_all(mul(h, targets[t])));
    }
    return total;
  }
  std::vector<Tensor> grads(bool batched, int64_t last = T) {
    for (Tensor* p : {&w_ih, &w_hh, &bias}) p->zero_grad();
    loss(batched, last).backward();
    return {w_ih.grad(), w_hh.grad(), bias.grad()};
  }
};

TEST(SequenceWeights, LstmWeightGradientsEqualTheUnbatchedSteps) {
  Generator g(1);
  Lstm m(g);
  auto unbatched = m.grads(false), batched = m.grads(true);
  for (size_t k = 0; k < 3; ++k) EXPECT_LT(max_abs_diff(batched[k], unbatched[k]), 1e-12) << "weight " << k;
}

TEST(SequenceWeights, StepsTheBackwardDoesNotReachRecordNothing) {
  // Steps 3..5 are built but not in the loss: their nodes never run, their rows are not summed.
  Generator g(2);
  Lstm m(g);
  auto unbatched = m.grads(false, 3), batched = m.grads(true, 3);
  for (size_t k = 0; k < 3; ++k) EXPECT_LT(max_abs_diff(batched[k], unbatched[k]), 1e-12) << "weight " << k;
}

TEST(SequenceWeights, SequenceLinearMatchesFiniteDifferences) {
  // y_{t+1} = tanh(y_t·Wᵀ + b), y_0 = x; loss = Σ_t Σ y_t·target_t.
  Generator g(3);
  const int64_t n = 4;
  Tensor w = random(g, {n, n}, true), b = random(g, {n}, true), x = random(g, {B, n}, true);
  std::vector<Tensor> targets;
  for (int64_t t = 0; t < T; ++t) targets.push_back(random(g, {B, n}));
  auto loss = [&] {
    auto seq = SequenceWeights::make({w}, b);
    Tensor y = x, total = Tensor::scalar(0.0, DType::F64);
    for (int64_t t = 0; t < T; ++t) {
      y = tanh(seq ? sequence_linear(y, *seq) : linear(y, w, b));
      total = add(total, sum_all(mul(y, targets[t])));
    }
    return total;
  };
  loss().backward();
  for (Tensor* p : {&w, &b, &x}) {
    Tensor analytic = p->grad();
    std::vector<double> numeric;
    double* d = p->data<double>();
    for (int64_t i = 0; i < p->numel(); ++i) {
      NoGradGuard no_grad;
      const double keep = d[i], eps = 1e-6;
      d[i] = keep + eps;
      const double up = loss().item();
      d[i] = keep - eps;
      const double down = loss().item();
      d[i] = keep;
      numeric.push_back((up - down) / (2 * eps));
    }
    EXPECT_LT(max_abs_diff(analytic, Tensor::from_vector(numeric, p->shape(), DType::F64)), 1e-8);
  }
}

TEST(SequenceWeights, NoGradientsMakeNoSequence) {
  Generator g(4);
  Tensor w = random(g, {2, 3}, true);
  NoGradGuard no_grad;
  EXPECT_EQ(SequenceWeights::make({w}), nullptr);
}

TEST(SequenceWeights, ControllerStartsANewSequenceAfterABackward) {
  // Truncated backpropagation through a caller-held state: window 1, backward, window 2 from the
  // detached state (whose `sequence` is the closed one of window 1), backward. Oracle: the same
  // windows through the unbatched lstm_cell, clipped as the controller clips.
  Generator g(5);
  controllers::RecurrentControllerConfig cfg;
  cfg.input_size = X, cfg.hidden_size = Hd, cfg.clip_value = 0.6;
  controllers::RecurrentController ctl(cfg);
  ctl.init(g);
  for (Tensor* p : {&ctl.weight_ih, &ctl.weight_hh, &ctl.bias}) *p = p->to(DType::F64).requires_grad_();
  std::vector<Tensor> xs, targets;
  for (int64_t t = 0; t < 2 * T; ++t) xs.push_back(random(g, {B, X})), targets.push_back(random(g, {B, Hd}));
  auto run = [&](bool batched) {
    for (Tensor* p : {&ctl.weight_ih, &ctl.weight_hh, &ctl.bias}) p->zero_grad();
    controllers::ControllerState s = ctl.zero_state(B, DType::F64);
    for (int window = 0; window < 2; ++window) {
      Tensor total = Tensor::scalar(0.0, DType::F64);
      for (int64_t t = window * T; t < (window + 1) * T; ++t) {
        Tensor out;
        if (batched) {
          out = ctl.step(xs[t], s, &s);
        } else {
          auto hc = lstm_cell(xs[t], s.h, s.c, ctl.weight_ih, ctl.weight_hh, ctl.bias, cfg.forget_bias);
          out = controllers::clip_if_enabled(hc[0], cfg.clip_value);
          s.h = out, s.c = controllers::clip_if_enabled(hc[1], cfg.clip_value);
        }
        total = add(total, sum_all(mul(out, targets[t])));
      }
      total.backward();
      if (batched) EXPECT_FALSE(s.sequence->open());
      s.h = s.h.detach(), s.c = s.c.detach();
    }
    return std::vector<Tensor>{ctl.weight_ih.grad(), ctl.weight_hh.grad(), ctl.bias.grad()};
  };
  auto unbatched = run(false), batched = run(true);
  for (size_t k = 0; k < 3; ++k) EXPECT_LT(max_abs_diff(batched[k], unbatched[k]), 1e-12) << "weight " << k;
}

TEST(SequenceWeights, BadInputIsOneClearError) {
  Tensor w = Tensor::ones({4, 3}).requires_grad_(), x = Tensor::ones({2, 3});
  expect_error([&] { SequenceWeights::make({}); }, "sequence_weights", "at least one weight");
  expect_error([&] { SequenceWeights::make({w, Tensor::ones({5, 2})}); }, "sequence_weights", "output widths");
  expect_error([&] { SequenceWeights::make({w}, Tensor::ones({3})); }, "sequence_weights", "bias shape [3] != [4]");
  expect_error([&] { SequenceWeights::make({w, Tensor::ones({4, 2}, DType::F64)}); }, "sequence_weights");
  auto one = SequenceWeights::make({w}), two = SequenceWeights::make({w, w});
  expect_error([&] { sequence_linear(Tensor::ones({2, 1, 3}), *one); }, "sequence_linear", "x");
  expect_error([&] { sequence_linear(x, *two); }, "sequence_linear", "one weight");
  expect_error([&] { sequence_linear(Tensor::ones({2, 5}), *one); }, "sequence_linear", "5 features");
  expect_error([&] { lstm_cell(x, Tensor::ones({2, 1}), Tensor::ones({2, 1}), *one); }, "lstm_cell", "[w_ih, w_hh]");
  // A second backward through steps whose sequence has already run is refused, not silently lost.
  Tensor y = sequence_linear(x, *one);
  sum_all(y).backward();
  expect_error([&] { one->record(Tensor::ones({2, 4}), {x}); }, "backward", "second backward");
}

}  // namespace
}  // namespace sdnc
