#include "sdnc/backend/cpu/gemm.h"

#include <cblas.h>
#include <dnnl.h>
#include <omp.h>

#include "sdnc/core/error.h"

// F32 — the engine's type — goes through oneDNN's sgemm (fastest on the T1 shapes here, and
// threaded with OpenMP like the rest of the engine, so a GEMM inside a parallel region runs
// on its thread). F64 — the finite-difference and oracle path — goes through OpenBLAS's
// dgemm. docs/decisions.md has the measurements.
namespace sdnc::cpu {

namespace {
inline CBLAS_TRANSPOSE tr(bool t) { return t ? CblasTrans : CblasNoTrans; }
constexpr double kSmallGemm = 1 << 20;  // multiply-adds
}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  // A small product runs on the calling thread: waking the other threads costs more than
  // it saves, and on a busy machine a parallel region can wait milliseconds for a thread
  // the OS has parked (one decoding step is ~20 such products).
  const bool small = static_cast<double>(M) * N * K < kSmallGemm;
  int threads = small && !omp_in_parallel() ? omp_get_max_threads() : 1;
  if (threads > 1) omp_set_num_threads(1);
  dnnl_status_t s = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  if (threads > 1) omp_set_num_threads(threads);
  if (s != dnnl_success) fail("gemm", "oneDNN sgemm failed (status {}) for M={} N={} K={}", static_cast<int>(s), M, N, K);
}

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha, const double* A,
          int64_t lda, const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  cblas_dgemm(CblasRowMajor, tr(trans_a), tr(trans_b), M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gemm_set_num_threads(int n) {
  omp_set_num_threads(n);
  openblas_set_num_threads(n);
}

const char* gemm_library_name() { return "oneDNN (F32) / OpenBLAS (F64)"; }

}  // namespace sdnc::cpu
