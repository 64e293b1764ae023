// matmul.h — matrix products through the BLAS (backend/cpu/gemm.h).
#pragma once
#include "sdnc/core/tensor.h"

namespace sdnc {
namespace cpu {
struct PackedWeight;  // backend/cpu/packed_gemm.h
}

// a [..., M, K] · b [..., K, N] → [..., M, N]. Leading dims of a and b must be equal, or b
// (or a) must be 2-D, in which case it is shared by every leading index.
Tensor matmul(const Tensor& a, const Tensor& b);

// Strict batched form: a [B, M, K] · b [B, K, N] → [B, M, N].
Tensor bmm(const Tensor& a, const Tensor& b);

// PyTorch's Linear: x [..., I] · weight [O, I]ᵀ + bias [O] → [..., O]. bias may be undefined.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

// The same product with the weight packed once (backend/cpu/packed_gemm.h): x [..., I] F32,
// at most kPackedRows rows (the product of the leading dims), weight [O, I] packed, bias [O]
// or undefined → [..., O]. Inference only: refuses an x that records gradients. linear() is
// its reference (the same sums, to rounding: the bias is added after the products here).
constexpr int64_t kPackedRows = 128;
Tensor packed_linear(const Tensor& x, const cpu::PackedWeight& weight, const Tensor& bias = Tensor());

}  // namespace sdnc
