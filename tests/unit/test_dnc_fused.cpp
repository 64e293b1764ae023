// test_dnc_fused.cpp — the fused access step (ops/dnc_addressing: one autograd node with a
// hand-written backward) against its reference decomposition (DncAccess's composed path,
// one autograd op per piece) and against central finite differences:
//   - several chained steps from a random valid state, F64: outputs, final state and every
//     gradient (parameters, controller outputs, initial state) agree to ~1e-12;
//   - the whole DncModel (LSTM and feed-forward, H = 1 and 2): logits, per-step states and
//     parameter gradients, F64 to 1e-10 and F32 to the golden tolerances (1e-5 / 1e-4);
//   - F64 central finite differences of the fused op's backward for every differentiable input;
//   - the allocation tie rule (lower slot first) and no NaN from all-zero memory with
//     saturated gates, values and gradients;
//   - forward() over several output chunks equals step() one step at a time, and the
//     recomputed segments of set_checkpoint_every(k) give the same logits and gradients.
// The PyTorch golden (test_dnc_golden.cpp) runs the default path, which is the fused one.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "sdnc/memory/dnc_access.h"
#include "sdnc/memory/temporal_links.h"
#include "sdnc/models/dnc.h"
#include "sdnc/sdnc.h"
#include "../common/finite_differences.h"
#include "../common/random_tensors.h"

namespace sdnc {
namespace {

using namespace sdnc::memory;

using test::randn;
using test::random_weighting;
using test::uniform;

// A random state that a DNC can reach: weightings sum to ≤ 1, usage in [0, 1], a valid link.
AccessState random_state(const DncAccessConfig& c, int64_t B, Generator& g) {
  NoGradGuard ng;
  const int64_t N = c.memory_size, W = c.word_size, R = c.num_reads, H = c.num_writes;
  AccessState s;
  s.memory = randn({B, N, W}, g);
  s.read_weights = random_weighting({B, R, N}, g);
  s.write_weights = random_weighting({B, H, N}, g);
  s.link = update_link(Tensor::zeros({B, H, N, N}, DType::F64), random_weighting({B, H, N}, g),
                       random_weighting({B, H, N}, g));
  s.precedence = random_weighting({B, H, N}, g);
  s.usage = uniform({B, N}, g);
  return s;
}

std::vector<Tensor*> parts(AccessState& s) {
  return {&s.memory, &s.read_weights, &s.write_weights, &s.link, &s.precedence, &s.usage};
}

double max_rel_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  auto x = a.to_doubles(), y = b.to_doubles();
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(x[i] - y[i]) / std::max(1.0, std::fabs(y[i])));
  return worst;
}

void expect_close(const std::string& what, const Tensor& got, const Tensor& ref, double tol) {
  ASSERT_TRUE(got.defined()) << what << ": undefined";
  ASSERT_TRUE(ref.defined()) << what << ": reference undefined";
  double d = max_rel_diff(got, ref);
  EXPECT_LE(d, tol) << what;
  if (d > tol / 100) std::printf("[dnc fused] %-48s max rel diff %.2e (tol %.0e)\n", what.c_str(), d, tol);
}

void to_dtype(nn::Module& m, DType dtype) {
  for (auto& [name, t] : m.named_parameters()) {
    Tensor converted = t.to(dtype);
    t.impl().storage = converted.impl().storage, t.impl().offset = 0, t.impl().dtype = dtype;
    t.impl().grad.reset();
  }
}

struct AccessCase {
  int64_t N, W, R, H;
  bool oneplus;
};

// T chained access steps from a random state, fused or composed; returns the read words of
// every step and the final state, with the gradients of <outputs, cotangents> in the leaves.
struct AccessRun {
  std::vector<Tensor> words;
  AccessState last;
  std::vector<Tensor> o;  // leaves
  AccessState first;      // leaves
};

AccessRun run_access(DncAccess& access, bool fused, const AccessCase& k, int64_t B, int64_t T, uint64_t seed) {
  Generator g(seed);
  AccessRun run;
  run.first = random_state(access.config(), B, g);
  for (Tensor* t : parts(run.first)) t->requires_grad_();
  AccessState s = run.first;
  for (int64_t t = 0; t < T; ++t) {
    run.o.push_back(mul_scalar(randn({B, access.config().input_size}, g), 2.0).requires_grad_());
    AccessState next;
    run.words.push_back(fused ? access.step_fused(run.o.back(), s, &next) : access.step_composed(run.o.back(), s, &next));
    s = next;
  }
  run.last = s;
  // loss = Σ_t <words_t, c> + Σ_parts <last part, c>, random cotangents from a fixed stream
  Generator gc(seed + 1000);
  Tensor loss = Tensor::scalar(0.0, DType::F64);
  for (const Tensor& w : run.words) loss = add(loss, sum_all(mul(w, randn(w.shape(), gc))));
  for (Tensor* p : parts(run.last)) loss = add(loss, sum_all(mul(*p, randn(p->shape(), gc))));
  loss.backward();
  (void)k;
  return run;
}

class DncFusedAccess : public ::testing::TestWithParam<AccessCase> {};

TEST_P(DncFusedAccess, MatchesComposedPathF64) {
  const AccessCase k = GetParam();
  DncAccessConfig c;
  c.input_size = 7, c.memory_size = k.N, c.word_size = k.W, c.num_reads = k.R, c.num_writes = k.H;
  c.strength = k.oneplus ? Strength::Oneplus : Strength::Softplus;
  const int64_t B = 3, T = 4;
  auto make = [&] {
    auto a = std::make_shared<DncAccess>(c);
    Generator g(5);
    a->init(g);
    to_dtype(*a, DType::F64);
    for (auto& [name, p] : a->named_parameters())  // non-zero biases too
      if (name.find("bias") != std::string::npos) g.fill_uniform(p, -0.5, 0.5);
    return a;
  };
  auto fa = make(), ca = make();
  AccessRun f = run_access(*fa, true, k, B, T, 42), r = run_access(*ca, false, k, B, T, 42);
  const double tol = 1e-12;
  for (int64_t t = 0; t < T; ++t) expect_close("words t=" + std::to_string(t), f.words[t], r.words[t], tol);
  auto fl = parts(f.last), rl = parts(r.last), ff = parts(f.first), rf = parts(r.first);
  const char* names[] = {"memory", "read_weights", "write_weights", "link", "precedence", "usage"};
  for (int i = 0; i < 6; ++i) {
    expect_close(std::string("state ") + names[i], *fl[i], *rl[i], tol);
    if (i == 2) {  // the previous write weights are stop-gradient on both paths
      EXPECT_FALSE(ff[i]->grad().defined() && max_rel_diff(ff[i]->grad(), Tensor::zeros(ff[i]->shape(), DType::F64)) > 0);
      continue;
    }
    expect_close(std::string("d initial ") + names[i], ff[i]->grad(), rf[i]->grad(), tol);
  }
  for (int64_t t = 0; t < T; ++t) expect_close("d o t=" + std::to_string(t), f.o[t].grad(), r.o[t].grad(), tol);
  auto fp = fa->named_parameters(), rp = ca->named_parameters();
  for (size_t i = 0; i < fp.size(); ++i) expect_close("d " + fp[i].first, fp[i].second.grad(), rp[i].second.grad(), tol);
}

INSTANTIATE_TEST_SUITE_P(Shapes, DncFusedAccess,
                         ::testing::Values(AccessCase{6, 4, 4, 1, false}, AccessCase{5, 3, 3, 2, true},
                                           AccessCase{7, 5, 1, 1, false}, AccessCase{4, 6, 2, 3, false}),
                         [](const auto& info) {
                           const AccessCase& k = info.param;
                           return "N" + std::to_string(k.N) + "W" + std::to_string(k.W) + "R" + std::to_string(k.R) +
                                  "H" + std::to_string(k.H) + (k.oneplus ? "_oneplus" : "");
                         });

// ---- the whole model -----------------------------------------------------------------------

void compare_models(models::DncConfig c, DType dtype, double fwd_tol, double grad_tol) {
  const int64_t B = 3, T = 9;
  Generator g(7);
  Tensor x = uniform({B, T, c.input_size}, g, -1, 1, dtype);
  Tensor cot = randn({B, T, c.output_size}, g, dtype);
  auto run = [&](bool fused, models::DncTrace& trace) {
    models::DncModel m(c);
    Generator gi(3);
    m.init(gi);
    to_dtype(m, dtype);
    m.set_fused(fused);
    EXPECT_EQ(m.fused(), fused);
    Tensor y = m.forward(x, &trace);
    sum_all(mul(y, cot)).backward();
    std::vector<std::pair<std::string, Tensor>> grads;
    for (auto& [n, p] : m.named_parameters()) grads.push_back({n, p.grad()});
    return std::make_pair(y, grads);
  };
  models::DncTrace tf, tc;
  auto [yf, gf] = run(true, tf);
  auto [yc, gcomp] = run(false, tc);
  const std::string tag = dtype == DType::F64 ? " [F64]" : " [F32]";
  expect_close("logits" + tag, yf, yc, fwd_tol);
  expect_close("read words" + tag, tf.read_words, tc.read_words, fwd_tol);
  if (dtype == DType::F64) {
    expect_close("usage", tf.usage, tc.usage, fwd_tol);
    expect_close("write weights", tf.write_weights, tc.write_weights, fwd_tol);
    expect_close("read weights", tf.read_weights, tc.read_weights, fwd_tol);
    expect_close("memory", tf.memory, tc.memory, fwd_tol);
    expect_close("link", tf.link, tc.link, fwd_tol);
    expect_close("precedence", tf.precedence, tc.precedence, fwd_tol);
  }
  ASSERT_EQ(gf.size(), gcomp.size());
  for (size_t i = 0; i < gf.size(); ++i) expect_close("d " + gf[i].first + tag, gf[i].second, gcomp[i].second, grad_tol);
}

models::DncConfig small_config(controllers::ControllerKind kind, int64_t H) {
  models::DncConfig c;
  c.input_size = 5, c.output_size = 4, c.hidden_size = 12, c.memory_size = 8, c.word_size = 6;
  c.num_read_heads = 3, c.num_write_heads = H, c.controller = kind;
  return c;
}

TEST(DncFusedModel, MatchesComposedF64) {
  compare_models(small_config(controllers::ControllerKind::Lstm, 1), DType::F64, 1e-10, 1e-10);
  compare_models(small_config(controllers::ControllerKind::FeedForward, 2), DType::F64, 1e-10, 1e-10);
}

TEST(DncFusedModel, MatchesComposedF32) {
  compare_models(small_config(controllers::ControllerKind::Lstm, 1), DType::F32, 1e-5, 1e-4);
  compare_models(small_config(controllers::ControllerKind::FeedForward, 2), DType::F32, 1e-5, 1e-4);
}

// forward() batches the output layer over chunks of steps; step() computes it per step.
TEST(DncFusedModel, ForwardOverSeveralOutputChunksEqualsStepByStep) {
  models::DncConfig c = small_config(controllers::ControllerKind::Lstm, 1);
  models::DncModel m(c);
  Generator g(11);
  m.init(g);
  to_dtype(m, DType::F64);
  const int64_t B = 2, T = 150;  // more than two chunks of 64
  Tensor x = uniform({B, T, c.input_size}, g, -1, 1);
  NoGradGuard ng;
  Tensor y = m.forward(x);
  ASSERT_EQ(y.shape(), (sdnc::Shape{B, T, c.output_size}));
  models::DncState st = m.zero_state(B, DType::F64);
  std::vector<double> got = y.to_doubles();
  double worst = 0;
  for (int64_t t = 0; t < T; ++t) {
    std::vector<double> yt = m.step(reshape(slice(x, 1, t, t + 1), {B, c.input_size}), st).to_doubles();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t k = 0; k < c.output_size; ++k)
        worst = std::max(worst, std::fabs(got[(b * T + t) * c.output_size + k] - yt[b * c.output_size + k]));
  }
  EXPECT_LE(worst, 1e-12);
}

// Recomputation: segments of k steps rerun in the backward give the same logits and gradients.
TEST(DncCheckpoint, SameLogitsAndGradientsAsKeepingEveryStep) {
  struct Case {
    controllers::ControllerKind kind;
    int64_t H;
    DType dtype;
    bool fused;
  };
  for (Case cs : {Case{controllers::ControllerKind::Lstm, 1, DType::F64, true},
                  Case{controllers::ControllerKind::FeedForward, 2, DType::F64, true},
                  Case{controllers::ControllerKind::Lstm, 1, DType::F64, false},
                  Case{controllers::ControllerKind::Lstm, 2, DType::F32, true}}) {
    models::DncConfig c = small_config(cs.kind, cs.H);
    const int64_t B = 2, T = 11;
    Generator g(13);
    Tensor x = uniform({B, T, c.input_size}, g, -1, 1, cs.dtype), cot = randn({B, T, c.output_size}, g, cs.dtype);
    auto run = [&](int64_t every) {
      models::DncModel m(c);
      Generator gi(3);
      m.init(gi);
      to_dtype(m, cs.dtype);
      m.set_fused(cs.fused);
      m.set_checkpoint_every(every);
      Tensor y = m.forward(x);
      sum_all(mul(y, cot)).backward();
      std::vector<Tensor> out{y};
      for (auto& [n, p] : m.named_parameters()) out.push_back(p.grad());
      return out;
    };
    const double tol = cs.dtype == DType::F64 ? 1e-12 : 1e-6;
    std::vector<Tensor> ref = run(0);
    for (int64_t every : {1, 4, 11, 20}) {
      std::vector<Tensor> got = run(every);
      const std::string tag = std::string(cs.fused ? "fused" : "composed") + " H=" + std::to_string(cs.H) +
                              " k=" + std::to_string(every) + (cs.dtype == DType::F64 ? " F64" : " F32");
      expect_close("checkpoint logits " + tag, got[0], ref[0], tol);
      for (size_t i = 1; i < ref.size(); ++i) expect_close("checkpoint grad " + std::to_string(i) + " " + tag, got[i], ref[i], tol);
    }
  }
}

// ---- finite differences of the fused op (F64, central) -----------------------------------

TEST(DncFusedFiniteDifferences, EveryDifferentiableInput) {
  for (AccessCase k : {AccessCase{6, 4, 3, 1, false}, AccessCase{5, 3, 2, 2, true}}) {
    Generator g(21);
    DncAccessConfig c;
    c.memory_size = k.N, c.word_size = k.W, c.num_reads = k.R, c.num_writes = k.H;
    const int64_t B = 2, I = dnc_interface_width(k.W, k.R, k.H);
    AccessState s = random_state(c, B, g);
    Tensor iface = mul_scalar(randn({B, I}, g), 1.5);
    // inputs checked: iface, memory, read weights, link, precedence, usage (write weights:
    // stop-gradient, see DncFusedAccess)
    std::vector<Tensor> in = {iface, s.memory, s.read_weights, s.link, s.precedence, s.usage};
    for (auto& t : in) t = t.clone().requires_grad_();
    auto f = [&](const std::vector<Tensor>& v) {
      return dnc_access_step(v[0], v[1], v[2], s.write_weights, v[3], v[4], v[5], k.oneplus);
    };
    std::vector<Tensor> cot;
    {
      std::vector<Tensor> out = f(in);
      Tensor loss = Tensor::scalar(0.0, DType::F64);
      for (const Tensor& o : out) {
        cot.push_back(randn(o.shape(), g));
        loss = add(loss, sum_all(mul(o, cot.back())));
      }
      loss.backward();
    }
    auto value = [&] {
      NoGradGuard ng;
      double acc = 0;
      std::vector<Tensor> out = f(in);
      for (size_t j = 0; j < out.size(); ++j) acc += sum_all(mul(out[j], cot[j])).item();
      return acc;
    };
    const char* names[] = {"iface", "memory", "read_weights", "link", "precedence", "usage"};
    for (size_t a = 0; a < in.size(); ++a) {
      const double worst = test::worst_central_difference_error(in[a], in[a].grad(), value);
      std::printf("[dnc fused fd] H=%lld %-14s max err %.2e\n", static_cast<long long>(k.H), names[a], worst);
      EXPECT_LE(worst, 1e-6) << names[a] << " H=" << k.H;
    }
  }
}

// ---- ties, zero memory, saturated gates --------------------------------------------------

bool all_finite(const Tensor& t) {
  for (double v : t.to_doubles())
    if (!std::isfinite(v)) return false;
  return true;
}

TEST(DncFusedEdges, TiedUsageAllocatesLowerSlotFirst) {
  for (DType dt : {DType::F32, DType::F64}) {
    const int64_t B = 1, N = 6, W = 3, R = 2, H = 1;
    const int64_t I = dnc_interface_width(W, R, H);
    // usage with a tie between slots 1 and 3 (the freest); previous weights zero, free gates
    // closed (raw −60), allocation and write gates open (raw +60): the write goes to slot 1.
    std::vector<double> raw(I, 0.0);
    const int64_t f0 = 2 * H * W;  // free gates, then allocation and write gates
    for (int64_t r = 0; r < R; ++r) raw[f0 + r] = -60;
    raw[f0 + R] = 60, raw[f0 + R + 1] = 60;
    Tensor iface = Tensor::from_vector(raw, {B, I}, dt);
    Tensor usage = Tensor::from_vector({0.5, 0.2, 0.9, 0.2, 0.7, 0.4}, {B, N}, dt);
    auto out = dnc_access_step(iface, Tensor::zeros({B, N, W}, dt), Tensor::zeros({B, R, N}, dt),
                               Tensor::zeros({B, H, N}, dt), Tensor::zeros({B, H, N, N}, dt),
                               Tensor::zeros({B, H, N}, dt), usage);
    auto ww = out[3].to_doubles();
    EXPECT_NEAR(ww[1], 0.8, 1e-6) << dtype_name(dt);  // nonusage of slot 1
    EXPECT_NEAR(ww[3], 0.2 * 0.8, 1e-6) << dtype_name(dt);  // the tied slot comes second
  }
}

TEST(DncFusedEdges, ZeroMemorySaturatedGatesNoNaN) {
  for (DType dt : {DType::F32, DType::F64}) {
    for (double v : {60.0, -60.0, 1e3}) {
      const int64_t B = 2, N = 5, W = 4, R = 2, H = 2;
      Tensor iface = Tensor::full({B, dnc_interface_width(W, R, H)}, v, dt).requires_grad_();
      std::vector<Tensor> st = {Tensor::zeros({B, N, W}, dt), Tensor::zeros({B, R, N}, dt),
                                Tensor::zeros({B, H, N}, dt), Tensor::zeros({B, H, N, N}, dt),
                                Tensor::zeros({B, H, N}, dt), Tensor::zeros({B, N}, dt)};
      for (auto& t : st) t.requires_grad_();
      Tensor s1 = iface;
      auto out = dnc_access_step(s1, st[0], st[1], st[2], st[3], st[4], st[5]);
      // a second step from the saturated state (usage 1, full erase)
      auto out2 = dnc_access_step(s1, out[1], out[2], out[3], out[4], out[5], out[6]);
      Tensor loss = Tensor::scalar(0.0, dt);
      for (auto* o : {&out, &out2})
        for (const Tensor& t : *o) {
          ASSERT_TRUE(all_finite(t)) << v;
          loss = add(loss, sum_all(t));
        }
      loss.backward();
      EXPECT_TRUE(all_finite(iface.grad())) << v;
      for (int i : {0, 1, 3, 4, 5}) EXPECT_TRUE(all_finite(st[i].grad())) << v << " input " << i;
    }
  }
}

TEST(DncFusedEdges, NoGradRecordsNothing) {
  const int64_t B = 1, N = 4, W = 3, R = 2, H = 1;
  Tensor iface = Tensor::zeros({B, dnc_interface_width(W, R, H)}).requires_grad_();
  NoGradGuard ng;
  auto out = dnc_access_step(iface, Tensor::zeros({B, N, W}), Tensor::zeros({B, R, N}), Tensor::zeros({B, H, N}),
                             Tensor::zeros({B, H, N, N}), Tensor::zeros({B, H, N}), Tensor::zeros({B, N}));
  for (const Tensor& t : out) EXPECT_TRUE(t.is_leaf());
}

}  // namespace
}  // namespace sdnc
