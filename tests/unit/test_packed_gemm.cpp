// The packed small-row product (backend/cpu/packed_gemm.h, ops packed_linear, nn::Linear's
// pack_for_inference): every output equals x·Wᵀ + b summed in double, within the worst-case
// rounding of a K-term float sum, for row counts on and off the 16-row blocks, column counts
// on and off the 16-column panels, strided x and y; nothing outside the [M, N] result is
// written; the result is bit-identical at 1 and 2 threads; a packed Linear under no_grad gives
// linear()'s numbers, follows load_state_dict (no stale copy), and is not used while gradients
// are recorded. Skipped on CPUs without AVX-512F (there is no packed path there).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "common/tensor_compare.h"
#include "sdnc/autograd/grad_mode.h"
#include "sdnc/backend/cpu/packed_gemm.h"
#include "sdnc/core/error.h"
#include "sdnc/core/parallel.h"
#include "sdnc/nn/layers.h"
#include "sdnc/ops/ops.h"

namespace sdnc {
namespace {

std::vector<float> normal_values(int64_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(count));
  for (float& x : v) x = normal(rng);
  return v;
}

#define SKIP_WITHOUT_PACKED_GEMM() \
  if (!cpu::packed_gemm_available()) GTEST_SKIP() << "this CPU has no AVX-512F: no packed product to test"

TEST(PackedGemm, EqualsTheDoubleSumWithinFloatRounding) {
  SKIP_WITHOUT_PACKED_GEMM();
  constexpr float kSentinel = 12345.0f;
  for (int64_t M : {1, 5, 16, 17, 33, 64, 128})
    for (int64_t N : {1, 15, 16, 17, 100, 384})
      for (int64_t K : {1, 7, 384})
        for (bool with_bias : {false, true}) {
          const int64_t ldx = K + 3, ldy = N + 5;  // strided rows; the gaps must stay untouched
          const auto W = normal_values(N * K, 1), x = normal_values(M * ldx, 2), b = normal_values(N, 3);
          const cpu::PackedWeight p = cpu::pack_weight(W.data(), N, K);
          std::vector<float> y(static_cast<size_t>((M + 1) * ldy), kSentinel);
          cpu::packed_gemm(M, x.data(), ldx, p, with_bias ? b.data() : nullptr, y.data(), ldy);
          for (int64_t m = 0; m < M + 1; ++m)
            for (int64_t o = 0; o < ldy; ++o) {
              const float got = y[static_cast<size_t>(m * ldy + o)];
              if (m == M || o >= N) {
                ASSERT_EQ(got, kSentinel) << "wrote outside the result at row " << m << ", column " << o;
                continue;
              }
              double sum = with_bias ? b[o] : 0.0, magnitude = std::fabs(sum);
              for (int64_t k = 0; k < K; ++k) {
                const double term = double(x[m * ldx + k]) * W[o * K + k];
                sum += term, magnitude += std::fabs(term);
              }
              // A K-term float sum (plus the bias) is off by at most (K + 1)·u·Σ|terms|, u = 2^-24.
              const double bound = (K + 1) * 0x1p-24 * magnitude + 1e-30;
              ASSERT_LE(std::fabs(got - sum), bound) << "M=" << M << " N=" << N << " K=" << K << " at [" << m
                                                     << ", " << o << "] bias " << with_bias;
            }
        }
}

TEST(PackedGemm, ResultDoesNotDependOnTheThreadCount) {
  SKIP_WITHOUT_PACKED_GEMM();
  const int64_t M = 16, N = 1536, K = 384;  // large enough to be split between threads
  const auto W = normal_values(N * K, 4), x = normal_values(M * K, 5), b = normal_values(N, 6);
  const cpu::PackedWeight p = cpu::pack_weight(W.data(), N, K);
  const int saved = num_threads();
  std::vector<float> one(static_cast<size_t>(M * N)), two(one.size());
  set_num_threads(1);
  cpu::packed_gemm(M, x.data(), K, p, b.data(), one.data(), N);
  set_num_threads(2);
  cpu::packed_gemm(M, x.data(), K, p, b.data(), two.data(), N);
  set_num_threads(saved);
  EXPECT_EQ(one, two);
}

TEST(PackedGemm, LinearOpMatchesLinearAndRefusesWhatItCannotRun) {
  SKIP_WITHOUT_PACKED_GEMM();
  NoGradGuard no_grad;
  const int64_t I = 40, O = 50;
  const auto Wv = normal_values(O * I, 7), bv = normal_values(O, 8), xv = normal_values(3 * 9 * I, 9);
  const Tensor W = Tensor::from_vector(Wv, {O, I}), b = Tensor::from_vector(bv, {O});
  const Tensor x = Tensor::from_vector(xv, {3, 9, I});
  const cpu::PackedWeight p = cpu::pack_weight(Wv.data(), O, I);
  const Tensor y = packed_linear(x, p, b);
  ASSERT_EQ(y.shape(), (Shape{3, 9, O}));
  EXPECT_LT(test::max_abs_diff(y, linear(x, W, b)), 1e-4);
  EXPECT_LT(test::max_abs_diff(packed_linear(x, p), linear(x, W)), 1e-4);

  auto message = [&](auto&& f) {
    try {
      f();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([&] { packed_linear(Tensor::zeros({2, I + 1}), p); }).find("[packed_linear] x [2, 41]"),
            std::string::npos);
  EXPECT_NE(message([&] { packed_linear(Tensor::zeros({kPackedRows + 1, I}), p); }).find("129 rows"),
            std::string::npos);
  EXPECT_NE(message([&] { packed_linear(Tensor::zeros({2, I}, DType::F64), p); }).find("F32"), std::string::npos);
  EXPECT_NE(message([&] { packed_linear(x, p, Tensor::zeros({O + 1})); }).find("bias [51]"), std::string::npos);
  {
    EnableGradGuard grad;
    Tensor xg = x.clone();
    xg.requires_grad_();
    EXPECT_NE(message([&] { packed_linear(xg, p); }).find("records gradients"), std::string::npos);
  }
}

TEST(PackedGemm, PackedLinearModuleFollowsItsWeightsAndGradMode) {
  SKIP_WITHOUT_PACKED_GEMM();
  const int64_t I = 64, O = 48;
  nn::Linear lin(I, O);
  Generator g(11);
  lin.init_uniform(g);
  const Tensor x = Tensor::from_vector(normal_values(20 * I, 12), {20, I});
  lin.pack_for_inference();
  ASSERT_TRUE(lin.packed);
  {
    NoGradGuard no_grad;
    EXPECT_EQ(test::max_abs_diff(lin.forward(x), packed_linear(x, *lin.packed, lin.bias)), 0.0);  // the packed path
    EXPECT_LT(test::max_abs_diff(lin.forward(x), linear(x, lin.weight, lin.bias)), 1e-5);
  }
  // New weights through load_state_dict: the old panels are dropped, the output follows.
  const Tensor W2 = Tensor::from_vector(normal_values(O * I, 13), {O, I}), b2 = Tensor::zeros({O});
  lin.load_state_dict({{"weight", W2}, {"bias", b2}});
  EXPECT_FALSE(lin.packed);
  lin.pack_for_inference();
  {
    NoGradGuard no_grad;
    EXPECT_LT(test::max_abs_diff(lin.forward(x), linear(x, W2, b2)), 1e-4);
  }
  // While gradients are recorded the ordinary, differentiable product runs.
  EnableGradGuard grad;
  const Tensor y = lin.forward(x);
  EXPECT_NE(y.grad_fn(), nullptr);
  lin.pack_for_inference(false);
  EXPECT_FALSE(lin.packed);
}

}  // namespace
}  // namespace sdnc
