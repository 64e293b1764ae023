// test_dnc_invariants.cpp — DeepMind's invariants of the DNC's addressing (DNC.md A.14,
// from addressing_test.py / access_test.py) as property tests of sdnc's memory parts; the
// tie rule of the allocation sort; no NaN from all-zero memory or saturated gates (values
// and gradients); and central finite-difference checks, in F64, of allocation, usage,
// links, directional weights, cosine weights and erase/add.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "sdnc/memory/allocation.h"
#include "sdnc/memory/cosine_weights.h"
#include "sdnc/memory/dnc_access.h"
#include "sdnc/memory/temporal_links.h"
#include "sdnc/memory/usage.h"
#include "sdnc/memory/word_memory.h"
#include "sdnc/models/dnc.h"
#include "sdnc/models/model.h"
#include "sdnc/sdnc.h"
#include "../common/random_tensors.h"

namespace sdnc {
namespace {

using namespace sdnc::memory;

using test::randn;
using test::random_weighting;
using test::uniform;

Tensor one_hot(int64_t B, int64_t K, int64_t N, int64_t slot) {
  std::vector<double> v(B * K * N, 0.0);
  for (int64_t i = 0; i < B * K; ++i) v[i * N + slot] = 1.0;
  return Tensor::from_vector(v, {B, K, N}, DType::F64);
}

double at(const Tensor& t, std::vector<int64_t> idx) {
  int64_t flat = 0;
  for (size_t d = 0; d < idx.size(); ++d) flat = flat * t.size(static_cast<int64_t>(d)) + idx[d];
  return t.to_doubles()[flat];
}

bool all_finite(const Tensor& t) {
  for (double v : t.to_doubles())
    if (!std::isfinite(v)) return false;
  return true;
}

// ---- link and precedence -------------------------------------------------------------------

TEST(DncLink, EntriesInUnitIntervalZeroDiagonalRowAndColumnSumsAtMostOne) {
  Generator g(1);
  const int64_t B = 3, H = 2, N = 7;
  Tensor link = Tensor::zeros({B, H, N, N}, DType::F64), prec = Tensor::zeros({B, H, N}, DType::F64);
  for (int step = 0; step < 12; ++step) {
    Tensor w = random_weighting({B, H, N}, g);
    link = update_link(link, prec, w);
    prec = update_precedence(prec, w);
    auto v = link.to_doubles();
    for (int64_t b = 0; b < B * H; ++b) {
      for (int64_t i = 0; i < N; ++i) {
        double row = 0, col = 0;
        for (int64_t j = 0; j < N; ++j) {
          double lij = v[(b * N + i) * N + j];
          ASSERT_GE(lij, 0.0);
          ASSERT_LE(lij, 1.0);
          row += lij;
          col += v[(b * N + j) * N + i];
        }
        ASSERT_EQ(v[(b * N + i) * N + i], 0.0);
        ASSERT_LE(row, 1.0 + 1e-12);
        ASSERT_LE(col, 1.0 + 1e-12);
      }
    }
    for (double p : prec.to_doubles()) ASSERT_TRUE(p >= 0.0 && p <= 1.0 + 1e-12);
  }
}

TEST(DncLink, OneHotWritesZeroThenOneLinkForwardFromZeroToOne) {
  const int64_t B = 2, H = 1, N = 5;
  Tensor link = Tensor::zeros({B, H, N, N}, DType::F64), prec = Tensor::zeros({B, H, N}, DType::F64);
  for (int64_t slot : {0, 1}) {
    Tensor w = one_hot(B, H, N, slot);
    link = update_link(link, prec, w);
    prec = update_precedence(prec, w);
  }
  EXPECT_EQ(at(link, {0, 0, 1, 0}), 1.0);
  Tensor fwd = directional_weights(link, one_hot(B, 1, N, 0), /*forward=*/true);  // [B, 1, H, N]
  for (int64_t i = 0; i < N; ++i) EXPECT_EQ(at(fwd, {1, 0, 0, i}), i == 1 ? 1.0 : 0.0);
}

TEST(DncLink, BackwardReadAfterWritesThreeThenTwoLandsOnThree) {
  const int64_t B = 1, H = 2, N = 6;
  Tensor link = Tensor::zeros({B, H, N, N}, DType::F64), prec = Tensor::zeros({B, H, N}, DType::F64);
  for (int64_t slot : {3, 2}) {
    Tensor w = one_hot(B, H, N, slot);
    link = update_link(link, prec, w);
    prec = update_precedence(prec, w);
  }
  Tensor bwd = directional_weights(link, one_hot(B, 2, N, 2), /*forward=*/false);  // [B, R=2, H, N]
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < N; ++i) EXPECT_EQ(at(bwd, {0, r, h, i}), i == 3 ? 1.0 : 0.0);
}

TEST(DncPrecedence, ZeroWriteKeepsItAndAFullWriteReplacesIt) {
  Generator g(2);
  const int64_t B = 2, H = 2, N = 6;
  Tensor prec = random_weighting({B, H, N}, g);
  EXPECT_EQ(update_precedence(prec, Tensor::zeros({B, H, N}, DType::F64)).to_doubles(), prec.to_doubles());
  Tensor w = softmax(randn({B, H, N}, g), -1);  // sums to 1
  auto got = update_precedence(prec, w).to_doubles(), want = w.to_doubles();
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12);
}

// ---- usage ---------------------------------------------------------------------------------

TEST(DncUsage, StaysInUnitIntervalFullWriteGivesOneFullFreeGivesZero) {
  Generator g(3);
  const int64_t B = 3, H = 2, R = 3, N = 8;
  Tensor u = Tensor::zeros({B, N}, DType::F64);
  for (int step = 0; step < 10; ++step) {
    u = update_usage(u, random_weighting({B, H, N}, g), uniform({B, R}, g), random_weighting({B, R, N}, g));
    for (double v : u.to_doubles()) ASSERT_TRUE(v >= 0.0 && v <= 1.0);
  }
  Tensor full = update_usage(u, Tensor::ones({B, 1, N}, DType::F64), Tensor::zeros({B, R}, DType::F64),
                             random_weighting({B, R, N}, g));
  for (double v : full.to_doubles()) EXPECT_EQ(v, 1.0);
  Tensor freed = update_usage(u, Tensor::zeros({B, H, N}, DType::F64), Tensor::ones({B, R}, DType::F64),
                              Tensor::ones({B, R, N}, DType::F64));
  for (double v : freed.to_doubles()) EXPECT_EQ(v, 0.0);
}

TEST(DncUsage, NoGradientThroughThePreviousWriteWeights) {
  Generator g(4);
  Tensor w = random_weighting({2, 1, 5}, g).requires_grad_();
  Tensor u0 = uniform({2, 5}, g).requires_grad_();
  Tensor u = update_usage(u0, w, uniform({2, 2}, g), random_weighting({2, 2, 5}, g));
  sum_all(u).backward();
  EXPECT_FALSE(w.grad().defined());
  EXPECT_TRUE(u0.grad().defined());
}

// ---- allocation ----------------------------------------------------------------------------

TEST(DncAllocation, LeastUsedGetsMostAndSumIsNearOne) {
  Generator g(5);
  const int64_t B = 6, N = 10;
  Tensor u = uniform({B, N}, g);
  Tensor a = allocation_weights(u);
  auto uv = u.to_doubles(), av = a.to_doubles();
  for (int64_t b = 0; b < B; ++b) {
    auto row = [&](const std::vector<double>& v) { return std::vector<double>(v.begin() + b * N, v.begin() + (b + 1) * N); };
    auto ur = row(uv), ar = row(av);
    auto argmin = [](const std::vector<double>& v) { return std::min_element(v.begin(), v.end()) - v.begin(); };
    auto argmax = [](const std::vector<double>& v) { return std::max_element(v.begin(), v.end()) - v.begin(); };
    EXPECT_EQ(argmin(ur), argmax(ar));
    EXPECT_EQ(argmax(ur), argmin(ar));
  }
  // Σa = 1 − Π ũ: near 1 once the memory is big enough that the product of usages vanishes.
  const int64_t big = 40;
  auto sums = sum(allocation_weights(uniform({B, big}, g)), 1).to_doubles();
  for (double s : sums) EXPECT_NEAR(s, 1.0, 1e-3);
}

TEST(DncAllocation, ClosedGateLeavesUsageForTheNextHead) {
  Generator g(6);
  const int64_t B = 3, N = 7;
  Tensor u = uniform({B, N}, g);
  Tensor a = write_allocation_weights(u, Tensor::zeros({B, 2}, DType::F64));
  EXPECT_EQ(slice(a, 1, 0, 1).to_doubles(), slice(a, 1, 1, 2).to_doubles());
}

TEST(DncAllocation, TwoHeadsTakeTheTwoFreeSlotsInOrder) {
  const int64_t N = 6;
  std::vector<double> u(N, 1.0);
  u[3] = 1e-4, u[4] = 0.0;
  for (DType dt : {DType::F64, DType::F32}) {
    Tensor a = write_allocation_weights(Tensor::from_vector(u, {1, N}, dt), Tensor::ones({1, 2}, dt));
    auto v = a.to_doubles();
    EXPECT_EQ(std::max_element(v.begin(), v.begin() + N) - v.begin(), 4);
    EXPECT_EQ(std::max_element(v.begin() + N, v.end()) - (v.begin() + N), 3);
  }
}

TEST(DncAllocation, TiesGoToTheLowerSlotIndexInBothPrecisions) {
  // Equal usages: the order is 0, 1, 2, ...
  Tensor equal = Tensor::full({1, 5}, 0.3, DType::F64);
  EXPECT_EQ(allocation_order(equal).to_indices(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  auto a = allocation_weights(equal).to_doubles();
  EXPECT_EQ(std::max_element(a.begin(), a.end()) - a.begin(), 0);
  // Ties among the freest: slots 1 and 3 first, lower index first, then 0, 2, 4 (tied).
  std::vector<double> u = {0.5, 0.2, 0.5, 0.2, 0.5};
  for (DType dt : {DType::F64, DType::F32})
    EXPECT_EQ(allocation_order(Tensor::from_vector(u, {1, 5}, dt)).to_indices(),
              (std::vector<int64_t>{1, 3, 0, 2, 4}));
  // Differences below float32's resolution of the key (A.12) tie, in F64 too: the reference
  // sorts float32 keys, so the same inputs allocate the same slot in both precisions.
  std::vector<double> tiny = {1e-12, 3e-13, 0.0, 2e-12, 0.7};
  EXPECT_EQ(allocation_order(Tensor::from_vector(tiny, {1, 5}, DType::F64)).to_indices(),
            (std::vector<int64_t>{0, 1, 2, 3, 4}));
  // ... while resolvable differences order them.
  std::vector<double> apart = {1e-6, 3e-7, 0.0, 2e-6, 0.7};
  EXPECT_EQ(allocation_order(Tensor::from_vector(apart, {1, 5}, DType::F64)).to_indices(),
            (std::vector<int64_t>{2, 1, 0, 3, 4}));
}

TEST(DncAllocation, FromAllZeroUsageTheFirstSlotWinsAndLeaksAreTiny) {
  Tensor a = allocation_weights(Tensor::zeros({1, 4}));
  auto v = a.to_doubles();
  EXPECT_NEAR(v[0], 1 - 1e-6, 1e-7);
  EXPECT_NEAR(v[1], 1e-6, 1e-7);
}

// ---- cosine weights -----------------------------------------------------------------------

TEST(DncCosine, MatchesAManualCosineWithSoftplusStrength) {
  Generator g(7);
  const int64_t B = 2, K = 3, N = 5, W = 4;
  Tensor mem = randn({B, N, W}, g), keys = randn({B, K, W}, g), beta = randn({B, K}, g);
  for (Strength st : {Strength::Softplus, Strength::Oneplus}) {
    auto got = cosine_weights(mem, keys, beta, st).to_doubles();
    auto m = mem.to_doubles(), k = keys.to_doubles(), s = beta.to_doubles();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t q = 0; q < K; ++q) {
        double strength = std::log1p(std::exp(s[b * K + q])) + (st == Strength::Oneplus ? 1.0 : 0.0);
        std::vector<double> logits(N);
        double kn = 0, z = 0;
        for (int64_t w = 0; w < W; ++w) kn += k[(b * K + q) * W + w] * k[(b * K + q) * W + w];
        for (int64_t n = 0; n < N; ++n) {
          double dot = 0, mn = 0;
          for (int64_t w = 0; w < W; ++w) {
            dot += k[(b * K + q) * W + w] * m[(b * N + n) * W + w];
            mn += m[(b * N + n) * W + w] * m[(b * N + n) * W + w];
          }
          logits[n] = strength * dot / (std::sqrt(kn + 1e-6) * std::sqrt(mn + 1e-6) + 1e-6);
          z += std::exp(logits[n]);
        }
        for (int64_t n = 0; n < N; ++n) EXPECT_NEAR(got[(b * K + q) * N + n], std::exp(logits[n]) / z, 1e-4);
      }
  }
}

TEST(DncCosine, ZeroMemoryIsUniformWithFiniteGradients) {
  Generator g(8);
  for (DType dt : {DType::F32, DType::F64}) {
    Tensor mem = Tensor::zeros({2, 5, 4}, dt).requires_grad_();
    Tensor keys = randn({2, 3, 4}, g, dt).requires_grad_(), beta = randn({2, 3}, g, dt).requires_grad_();
    Tensor c = cosine_weights(mem, keys, beta);
    for (double v : c.to_doubles()) EXPECT_NEAR(v, 0.2, 1e-7);
    sum_all(mul(c, randn({2, 3, 5}, g, dt))).backward();
    EXPECT_TRUE(all_finite(mem.grad()) && all_finite(keys.grad()) && all_finite(beta.grad()));
    // all-zero keys too
    Tensor zk = Tensor::zeros({2, 3, 4}, dt).requires_grad_();
    sum_all(cosine_weights(mem, zk, beta)).backward();
    EXPECT_TRUE(all_finite(zk.grad()));
  }
}

// ---- no NaN: all-zero memory and saturated gates, through the whole DNC --------------------

TEST(DncModel, SaturatedGatesAndZeroMemoryGiveNoNaN) {
  models::DncConfig c;
  c.input_size = 3, c.output_size = 2, c.hidden_size = 8, c.memory_size = 5, c.word_size = 4;
  c.num_read_heads = 2, c.num_write_heads = 2;
  for (auto kind : {controllers::ControllerKind::Lstm, controllers::ControllerKind::FeedForward}) {
    c.controller = kind;
    models::DncModel m(c);
    Generator g(9);
    m.init(g);
    // gates saturate to exactly 1 in float32: erase = write gate = allocation gate = free gate = 1
    for (auto* l : {&m.access->erase_vectors, &m.access->free_gate, &m.access->allocation_gate, &m.access->write_gate})
      (*l)->bias.fill(60.0);
    m.access->write_strengths->bias.fill(60.0);
    m.access->read_strengths->bias.fill(60.0);
    Tensor x = Tensor::zeros({2, 6, 3});  // zero inputs keep memory at zero on the first step
    x.requires_grad_();
    Tensor y = m.forward(x);
    ASSERT_TRUE(all_finite(y));
    sum_all(y).backward();
    for (auto& [name, p] : m.named_parameters()) EXPECT_TRUE(!p.grad().defined() || all_finite(p.grad())) << name;
    EXPECT_TRUE(all_finite(x.grad()));
  }
}

TEST(DncModel, ConfigRoundTripAndMakeModel) {
  nlohmann::json j = {{"model_type", "dnc"}, {"input_size", 6}, {"output_size", 5}, {"clip_value", nullptr},
                      {"controller", "feedforward"}, {"strength", "oneplus"}, {"num_write_heads", 2}};
  auto c = models::DncConfig::from_json(j, "test");
  EXPECT_EQ(c.clip_value, 0.0);
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.memory_size, 16);
  EXPECT_EQ(c.num_read_heads, 4);
  auto back = models::DncConfig::from_json(c.to_json(), "test");
  EXPECT_EQ(back.to_json(), c.to_json());
  auto model = models::make_model(j, "test");
  EXPECT_EQ(model->type(), "dnc");
  auto names = model->module().named_parameters();
  EXPECT_EQ(names.front().first, "controller.weight_ih");
  EXPECT_EQ(names.back().first, "output.bias");
  EXPECT_THROW(models::DncConfig::from_json({{"model_type", "dnc"}, {"input_size", 3}}, "t"), Error);
  EXPECT_THROW(models::DncConfig::from_json({{"input_size", 3}, {"output_size", 2}, {"controller", "gru"}}, "t"),
               Error);
  EXPECT_THROW(models::DncConfig::from_json({{"input_size", 3}, {"output_size", 2}, {"clip_value", -1}}, "t"), Error);
}

// ---- finite differences (F64, central, h = 1e-6) -------------------------------------------

// Checks d<f(inputs), R>/d inputs against central differences; returns the max error
// |numeric − analytic| / (1 + |numeric|).
double gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f, std::vector<Tensor> inputs,
                 uint64_t seed) {
  Generator g(seed);
  for (auto& t : inputs) t = t.detach().clone().requires_grad_();
  Tensor out = f(inputs);
  Tensor r = randn(out.shape(), g);
  sum_all(mul(out, r)).backward();
  double worst = 0;
  for (auto& t : inputs) {
    Tensor analytic = t.grad().defined() ? t.grad() : Tensor::zeros(t.shape(), DType::F64);
    auto an = analytic.to_doubles();
    double* x = t.data<double>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      double x0 = x[i], h = 1e-6 * std::max(1.0, std::fabs(x0));
      double fp, fm;
      {
        NoGradGuard ng;
        x[i] = x0 + h;
        fp = sum_all(mul(f(inputs), r)).item();
        x[i] = x0 - h;
        fm = sum_all(mul(f(inputs), r)).item();
        x[i] = x0;
      }
      double num = (fp - fm) / (2 * h);
      worst = std::max(worst, std::fabs(num - an[i]) / (1 + std::fabs(num)));
    }
  }
  return worst;
}

void expect_fd(const char* what, double err, double tol = 1e-6) {
  std::printf("[dnc fd] %-40s max err %.2e (tol %.0e)\n", what, err, tol);
  EXPECT_LE(err, tol) << what;
}

TEST(DncFiniteDifferences, Allocation) {
  Generator g(10);
  // usages well apart (no reordering within ±h) and gates in (0, 1)
  std::vector<double> u = {0.05, 0.9, 0.3, 0.6, 0.15, 0.75, 0.45, 0.02, 0.5, 0.25, 0.85, 0.35};
  Tensor usage = Tensor::from_vector(u, {2, 6}, DType::F64);
  Tensor gates = uniform({2, 3}, g, 0.2, 0.9);
  expect_fd("allocation (1 head) wrt usage", gradcheck([](auto& in) { return allocation_weights(in[0]); }, {usage}, 1));
  expect_fd("allocation (3 heads) wrt usage, gates",
            gradcheck([](auto& in) { return write_allocation_weights(in[0], in[1]); }, {usage, gates}, 2));
}

TEST(DncFiniteDifferences, Usage) {
  Generator g(11);
  const int64_t B = 2, H = 2, R = 3, N = 5;
  Tensor u = uniform({B, N}, g), w = random_weighting({B, H, N}, g), f = uniform({B, R}, g),
         rw = random_weighting({B, R, N}, g);
  // the previous write weights get no gradient (stop-gradient): check the others
  expect_fd("usage wrt prev usage, free gates, read weights",
            gradcheck([&](auto& in) { return update_usage(in[0], w, in[1], in[2]); }, {u, f, rw}, 3));
}

TEST(DncFiniteDifferences, LinksPrecedenceDirections) {
  Generator g(12);
  const int64_t B = 2, H = 2, R = 2, N = 5;
  Tensor link = update_link(Tensor::zeros({B, H, N, N}, DType::F64), random_weighting({B, H, N}, g),
                            random_weighting({B, H, N}, g));
  Tensor p = random_weighting({B, H, N}, g), w = random_weighting({B, H, N}, g), rw = random_weighting({B, R, N}, g);
  expect_fd("link wrt prev link, precedence, write w",
            gradcheck([](auto& in) { return update_link(in[0], in[1], in[2]); }, {link, p, w}, 4));
  expect_fd("precedence wrt prev precedence, write w",
            gradcheck([](auto& in) { return update_precedence(in[0], in[1]); }, {p, w}, 5));
  expect_fd("forward weights wrt link, read w",
            gradcheck([](auto& in) { return directional_weights(in[0], in[1], true); }, {link, rw}, 6));
  expect_fd("backward weights wrt link, read w",
            gradcheck([](auto& in) { return directional_weights(in[0], in[1], false); }, {link, rw}, 7));
}

TEST(DncFiniteDifferences, CosineAndEraseWrite) {
  Generator g(13);
  const int64_t B = 2, H = 2, K = 3, N = 5, W = 4;
  Tensor mem = randn({B, N, W}, g), keys = randn({B, K, W}, g), beta = randn({B, K}, g);
  expect_fd("cosine weights (softplus)",
            gradcheck([](auto& in) { return cosine_weights(in[0], in[1], in[2]); }, {mem, keys, beta}, 8));
  expect_fd("cosine weights (oneplus)",
            gradcheck([](auto& in) { return cosine_weights(in[0], in[1], in[2], Strength::Oneplus); },
                      {mem, keys, beta}, 9));
  Tensor w = random_weighting({B, H, N}, g), e = uniform({B, H, W}, g), v = randn({B, H, W}, g);
  expect_fd("erase and write", gradcheck([](auto& in) { return erase_and_write(in[0], in[1], in[2], in[3]); },
                                         {mem, w, e, v}, 10));
  expect_fd("read words", gradcheck([](auto& in) { return read_words(in[0], in[1]); }, {mem, w}, 11));
}

}  // namespace
}  // namespace sdnc
