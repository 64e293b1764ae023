#include "sdnc/backend/cpu/gemm.h"

#include <dnnl.h>
#include <omp.h>

#include <algorithm>
#include <vector>

#include "sdnc/core/error.h"
#include "sdnc/backend/cpu/gemv.h"
#include "sdnc/core/parallel.h"

// F32 — the engine's type — goes through oneDNN's sgemm (fastest on the T1 shapes here, and
// threaded with OpenMP like the rest of the engine, so a GEMM inside a parallel region runs
// on its thread). F64 — only the finite-difference and oracle path — is a plain loop: exact
// summation order, no second library. docs/decisions.md has the measurements.
namespace sdnc::cpu {

namespace {
constexpr double kSmallGemm = 1 << 20;  // multiply-adds
// A product of at most this many rows splits its columns between the threads, each share at
// least kSplitColumns wide.
constexpr int64_t kFewRows = 64, kSplitColumns = 128;
thread_local bool t_on_calling_thread = false;
}  // namespace

bool gemm_is_small(int64_t M, int64_t N, int64_t K) { return static_cast<double>(M) * N * K < kSmallGemm; }
GemmOnCallingThread::GemmOnCallingThread() : previous_(t_on_calling_thread) { t_on_calling_thread = true; }
GemmOnCallingThread::~GemmOnCallingThread() { t_on_calling_thread = previous_; }

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) {  // oneDNN 2.6 leaves C untouched when K = 0 (NN/TN/TT); C = beta·C
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
    return;
  }
  // A small product runs on the calling thread: waking the other threads costs more than
  // it saves, and on a busy machine a parallel region can wait milliseconds for a thread
  // the OS has parked (one decoding step is ~20 such products).
  const bool small = gemm_is_small(M, N, K) || t_on_calling_thread;
  auto sgemm = [&](int64_t j0, int64_t j1) {  // the columns [j0, j1) of C
    const float* Bj = trans_b ? B + j0 * ldb : B + j0;
    dnnl_status_t s =
        dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, j1 - j0, K, alpha, A, lda, Bj, ldb, beta, C + j0, ldc);
    if (s != dnnl_success)
      fail("gemm", "oneDNN sgemm failed (status {}) for M={} N={} K={}", static_cast<int>(s), M, j1 - j0, K);
  };
  const int max_threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (!small && max_threads > 1 && M <= kFewRows && N >= kSplitColumns * max_threads) {
    // Few rows (a sentence, a prompt): oneDNN's own threading splits M and gains nothing
    // here; the threads take contiguous 16-aligned column ranges (the weight rows of
    // op(B) they read), each a one-thread sgemm inside the region.
    const int parts = static_cast<int>(std::min<int64_t>(max_threads, N / kSplitColumns));
#pragma omp parallel num_threads(parts)
    {
      const int p = omp_get_thread_num();
      const int64_t j0 = column_split(N, parts, p), j1 = column_split(N, parts, p + 1);
      if (j1 > j0) sgemm(j0, j1);
    }
    return;
  }
  int threads = small && max_threads > 1 ? max_threads : 1;
  if (threads > 1) omp_set_num_threads(1);
  sgemm(0, N);
  if (threads > 1) omp_set_num_threads(threads);
}

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha, const double* A,
          int64_t lda, const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  auto a = [&](int64_t i, int64_t k) { return trans_a ? A[k * lda + i] : A[i * lda + k]; };
  auto b = [&](int64_t k, int64_t j) { return trans_b ? B[j * ldb + k] : B[k * ldb + j]; };
  parallel_for(M, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, N * K)), [&](int64_t begin, int64_t end) {
    std::vector<double> row(N);
    for (int64_t i = begin; i < end; ++i) {
      std::fill(row.begin(), row.end(), 0.0);
      for (int64_t k = 0; k < K; ++k) {
        double aik = a(i, k);
        for (int64_t j = 0; j < N; ++j) row[j] += aik * b(k, j);
      }
      double* c = C + i * ldc;
      for (int64_t j = 0; j < N; ++j) c[j] = alpha * row[j] + (beta == 0.0 ? 0.0 : beta * c[j]);
    }
  });
}

void gemm_set_num_threads(int n) { omp_set_num_threads(n); }

const char* gemm_library_name() { return "oneDNN"; }

}  // namespace sdnc::cpu
