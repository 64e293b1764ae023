// cpu::gemm's few-row path (backend/cpu/gemm.cpp): at 2 threads a product of ≤ 64 rows splits
// its columns between the threads, each a one-thread sgemm on its column range of op(B) and C.
// For every transposition of A and B, strided A, B and C, and beta ≠ 0, the result equals the
// double-precision product within the rounding of a K-term float sum, and C's padding columns
// are not written.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "sdnc/backend/cpu/gemm.h"
#include "sdnc/core/parallel.h"

namespace sdnc {
namespace {

TEST(GemmColumns, FewRowsAtTwoThreadsEqualTheDoubleProduct) {
  const int saved = num_threads();
  set_num_threads(2);
  std::mt19937 rng(21);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  constexpr float kSentinel = -777.0f;
  for (int64_t M : {1, 16, 64})
    for (int64_t N : {300, 1000})  // wide enough to be split (≥ 128 columns a thread)
      for (bool trans_a : {false, true})
        for (bool trans_b : {false, true}) {
          const int64_t K = 257;
          const int64_t lda = (trans_a ? M : K) + 3, ldb = (trans_b ? K : N) + 5, ldc = N + 7;
          std::vector<float> A((trans_a ? K : M) * lda), B((trans_b ? N : K) * ldb), C(M * ldc);
          for (float& v : A) v = normal(rng);
          for (float& v : B) v = normal(rng);
          for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < ldc; ++j) C[i * ldc + j] = j < N ? normal(rng) : kSentinel;
          const std::vector<float> C0 = C;
          const float alpha = 0.75f, beta = 0.5f;
          cpu::gemm(trans_a, trans_b, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
          auto a = [&](int64_t i, int64_t k) { return double(trans_a ? A[k * lda + i] : A[i * lda + k]); };
          auto b = [&](int64_t k, int64_t j) { return double(trans_b ? B[j * ldb + k] : B[k * ldb + j]); };
          for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < ldc; ++j) {
              if (j >= N) {
                ASSERT_EQ(C[i * ldc + j], kSentinel) << "wrote C's padding at [" << i << ", " << j << "]";
                continue;
              }
              double sum = 0, magnitude = 0;
              for (int64_t k = 0; k < K; ++k) sum += a(i, k) * b(k, j), magnitude += std::fabs(a(i, k) * b(k, j));
              const double want = alpha * sum + beta * double(C0[i * ldc + j]);
              const double bound = (K + 2) * 0x1p-24 * (alpha * magnitude + std::fabs(beta * C0[i * ldc + j])) + 1e-30;
              ASSERT_LE(std::fabs(C[i * ldc + j] - want), bound)
                  << "M=" << M << " N=" << N << " trans_a=" << trans_a << " trans_b=" << trans_b << " at [" << i
                  << ", " << j << "]";
            }
        }
  set_num_threads(saved);
}

}  // namespace
}  // namespace sdnc
