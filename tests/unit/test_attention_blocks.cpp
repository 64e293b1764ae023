// The fused attention kernel at sizes where it works in blocks (causal attention is computed
// 64 queries / 64 slots at a time, skipping the hidden triangle): forward output, read
// weights and the gradients of q, k and v against attention_reference (plain ops +
// autograd; the read weights against their definition in plain loops), with and without padding, with memories longer than the queries (S > T: the
// KV-cache alignment), in F64 (tight) and F32, at 1 and 2 threads.
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

#include "common/tensor_compare.h"
#include "sdnc/sdnc.h"

namespace sdnc {
namespace {

Tensor randn(const Shape& s, uint64_t seed, DType dtype) {
  Tensor t = Tensor::empty(s, DType::F64);
  Generator g(seed);
  g.fill_normal(t, 0.0, 1.0);
  return t.to(dtype);
}

using test::max_abs_diff;

// The read weights from their definition (attention.h), in plain loops over doubles:
// w[b,h,t,j] = softmax_j(q·k / sqrt(Dh)) over the visible slots (causal: j <= t + S − T;
// mask nonzero = hidden); a query that sees no slot gets zeros. [B, H, T, S] F64.
Tensor plain_read_weights(const Tensor& q, const Tensor& k, const Tensor& mask, bool causal) {
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), Dh = q.size(3), S = k.size(2);
  auto Q = q.to_doubles(), K = k.to_doubles();
  std::vector<int64_t> M = mask.defined() ? mask.to_indices() : std::vector<int64_t>(B * S, 0);
  Tensor w = Tensor::zeros({B, H, T, S}, DType::F64);
  double* W = w.data<double>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t t = 0; t < T; ++t) {
        std::vector<double> score(S, -INFINITY);
        double top = -INFINITY;
        for (int64_t j = 0; j < S; ++j) {
          if (M[b * S + j] != 0 || (causal && j > t + (S - T))) continue;
          double d = 0;
          for (int64_t c = 0; c < Dh; ++c) d += Q[((b * H + h) * T + t) * Dh + c] * K[((b * H + h) * S + j) * Dh + c];
          score[j] = d / std::sqrt(static_cast<double>(Dh));
          top = std::max(top, score[j]);
        }
        if (top == -INFINITY) continue;
        double sum = 0;
        for (int64_t j = 0; j < S; ++j) sum += score[j] == -INFINITY ? 0.0 : std::exp(score[j] - top);
        for (int64_t j = 0; j < S; ++j)
          W[((b * H + h) * T + t) * S + j] = score[j] == -INFINITY ? 0.0 : std::exp(score[j] - top) / sum;
      }
  return w;
}

struct Result {
  Tensor out, weights, dq, dk, dv;
};

Result run(bool fused, int64_t T, int64_t S, bool causal, bool padded, DType dtype) {
  const int64_t B = 2, H = 2, Dh = 8, Dv = 6;
  Tensor q = randn({B, H, T, Dh}, 1, dtype).requires_grad_(), k = randn({B, H, S, Dh}, 2, dtype).requires_grad_();
  Tensor v = randn({B, H, S, Dv}, 3, dtype).requires_grad_(), g = randn({B, H, T, Dv}, 4, dtype);
  Tensor mask;
  if (padded) {  // batch 0: a few slots hidden, batch 1: none
    std::vector<int64_t> m(B * S, 0);
    for (int64_t j = 0; j < S; j += 7) m[j] = 1;
    mask = Tensor::from_indices(m, {B, S});
  }
  AttentionOptions o;
  o.causal = causal;
  Result r;
  if (fused) {
    r.out = attention(q, k, v, mask, o, &r.weights);
  } else {
    r.out = attention_reference(q, k, v, mask, o);
    r.weights = plain_read_weights(q, k, mask, causal);  // independent of the fused kernel
  }
  run_backward({r.out}, {g});
  r.dq = q.grad(), r.dk = k.grad(), r.dv = v.grad();
  return r;
}

class AttentionBlocks : public ::testing::TestWithParam<std::tuple<int64_t, int64_t, bool, bool>> {};

TEST_P(AttentionBlocks, MatchesReference) {
  auto [T, extra, causal, padded] = GetParam();
  int64_t S = T + extra;
  for (DType dtype : {DType::F64, DType::F32}) {
    double tol = dtype == DType::F64 ? 1e-12 : 2e-5;
    Result ref = run(false, T, S, causal, padded, dtype);
    for (int threads : {1, 2}) {
      int saved = num_threads();
      set_num_threads(threads);
      Result got = run(true, T, S, causal, padded, dtype);
      set_num_threads(saved);
      std::string what = fmt::format("T={} S={} causal={} padded={} {} threads={}", T, S, causal, padded,
                                     dtype_name(dtype), threads);
      EXPECT_LE(max_abs_diff(got.out, ref.out), tol) << what << " out";
      EXPECT_LE(max_abs_diff(got.dq, ref.dq), tol) << what << " dq";
      EXPECT_LE(max_abs_diff(got.dk, ref.dk), tol) << what << " dk";
      EXPECT_LE(max_abs_diff(got.dv, ref.dv), tol) << what << " dv";
      EXPECT_LE(max_abs_diff(got.weights, ref.weights), tol) << what << " read weights";
      if (causal) {  // the hidden triangle of the saved weights is exactly zero
        auto w = got.weights.to_doubles();
        for (int64_t t = 0; t < T; ++t)
          for (int64_t j = t + (S - T) + 1; j < S; ++j) ASSERT_EQ(w[t * S + j], 0.0) << what << " t=" << t << " j=" << j;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, AttentionBlocks,
                         ::testing::Combine(::testing::Values(1, 63, 64, 65, 150), ::testing::Values(0, 37),
                                            ::testing::Bool(), ::testing::Bool()));

}  // namespace
}  // namespace sdnc
