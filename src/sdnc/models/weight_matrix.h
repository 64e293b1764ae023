// weight_matrix.h — one weight matrix of a loaded pretrained model, in the form its file stores
// it: F32 rows, or ggml quantised blocks (Q4_0, Q4_1, Q8_0) read in place from the GGUF mapping.
// Linear layout W [N, K] (out × in). `times` is the decoding product: a quantised matrix is
// repacked once at load into 16-row tiles (backend/cpu/quant_gemv_packed.h; the same bytes
// again, held beside the mapping) and multiplied from them; an F32 one with gemv.h.
// `dequantized` gives the F32 copy the parallel form multiplies with GEMM.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sdnc/backend/cpu/quant_gemv.h"
#include "sdnc/backend/cpu/quant_gemv_packed.h"

namespace sdnc::gguf { class File; struct TensorInfo; }

namespace sdnc::models {

class WeightMatrix {
 public:
  WeightMatrix() = default;
  // The GGUF tensor `name`, which must be [rows, cols] (row-major: ne = [cols, rows]); throws
  // "[<model>] <path>: tensor 'name' has shape ... but the metadata says [rows, cols]".
  static WeightMatrix from_gguf(const gguf::File& file, const std::string& name, int64_t rows,
                                int64_t cols, const char* model);
  // An owned F32 matrix.
  static WeightMatrix from_f32(std::vector<float> values, int64_t rows, int64_t cols);

  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  bool quantized() const { return quantized_; }
  int64_t bytes() const;  // bytes read per product

  //   y[m, o] ← (accumulate ? y[m, o] : 0) + Σ_i x[m, i] · W[o, i]   for o0 ≤ o < o1.
  void times(int64_t M, const float* x, int64_t ldx, float* y, int64_t ldy, int64_t o0, int64_t o1,
             bool accumulate) const;
  // The same with x also given as 8-bit activations (cpu::quantize_rows_q8 of x, one row):
  // a quantised matrix multiplies the codes (cpu::packed_rows_times_weight_t_q8), an F32 one x.
  void times_int8(const float* x, const cpu::Q8Rows& xq, float* y, int64_t o0, int64_t o1, bool accumulate) const;
  // Row r as F32 (an embedding look-up).
  void row(int64_t r, float* out) const;
  // The whole matrix as F32 [rows, cols].
  std::vector<float> dequantized() const;
  // A copy whose row r is this matrix's row perm[r] (the quantised bytes move whole).
  WeightMatrix permuted_rows(const std::vector<int64_t>& perm) const;

 private:
  int64_t rows_ = 0, cols_ = 0;
  bool quantized_ = false;
  cpu::QuantType qtype_ = cpu::QuantType::Q8_0;
  const uint8_t* ptr() const { return owned_.empty() ? data_ : owned_.data(); }
  const uint8_t* data_ = nullptr;   // in the file's mapping (quantised: rows × row_bytes)
  std::vector<uint8_t> owned_;      // or owned (F32 copies, permuted rows); wins when non-empty
  int64_t row_bytes_ = 0;
  // The 16-row tiles the products read (quantised only; shared by copies, e.g. a tied head).
  std::shared_ptr<const cpu::PackedQuantWeight> packed_;
  void pack();
};

}  // namespace sdnc::models
