// gemm.h — the one interface between sdnc and the BLAS library (chosen in
// docs/decisions.md). Row-major: C[M,N] = alpha · op(A)[M,K] · op(B)[K,N] + beta · C.
#pragma once
#include <cstdint>

namespace sdnc::cpu {

// lda/ldb/ldc are row strides of the matrices as stored (before op()).
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha, const double* A,
          int64_t lda, const double* B, int64_t ldb, double beta, double* C, int64_t ldc);

// Whether the F32 gemm runs an M×N×K product on the calling thread (a small one: waking the
// other threads costs more than it saves).
bool gemm_is_small(int64_t M, int64_t N, int64_t K);

// While one is alive, every F32 gemm of this thread runs on the calling thread: a product that
// is large only because it stacks many small ones (ops/sequence_weights.h) keeps their threading.
class GemmOnCallingThread {
 public:
  GemmOnCallingThread();
  ~GemmOnCallingThread();
  GemmOnCallingThread(const GemmOnCallingThread&) = delete;
  GemmOnCallingThread& operator=(const GemmOnCallingThread&) = delete;

 private:
  bool previous_;
};

// Thread count of the F32 GEMM library.
void gemm_set_num_threads(int n);
const char* gemm_library_name();

}  // namespace sdnc::cpu
