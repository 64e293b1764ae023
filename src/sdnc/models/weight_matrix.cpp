// weight_matrix.cpp — GGUF tensors as decoding weights.
#include "sdnc/models/weight_matrix.h"

#include <cstring>

#include "sdnc/backend/cpu/gemv.h"
#include "sdnc/core/error.h"
#include "sdnc/io/gguf.h"

namespace sdnc::models {

WeightMatrix WeightMatrix::from_gguf(const gguf::File& file, const std::string& name, int64_t rows,
                                     int64_t cols, const char* model) {
  const gguf::TensorInfo* info = file.find_tensor(name);
  if (!info) fail(model, "{}: tensor '{}' is missing", file.path(), name);
  if (info->ne.size() != 2 || static_cast<int64_t>(info->ne[0]) != cols ||
      static_cast<int64_t>(info->ne[1]) != rows)
    fail(model, "{}: tensor '{}' has ggml shape {} but the metadata says [{}, {}] (ne = [{}, {}])",
         file.path(), name, fmt::format("{}", info->ne), rows, cols, cols, rows);
  WeightMatrix w;
  w.rows_ = rows;
  w.cols_ = cols;
  switch (info->type) {
    case gguf::TensorType::Q4_0: case gguf::TensorType::Q4_1: case gguf::TensorType::Q8_0:
      w.quantized_ = true;
      w.qtype_ = info->type == gguf::TensorType::Q4_0   ? cpu::QuantType::Q4_0
                 : info->type == gguf::TensorType::Q4_1 ? cpu::QuantType::Q4_1
                                                        : cpu::QuantType::Q8_0;
      w.row_bytes_ = cols / 32 * cpu::quant_block_bytes(w.qtype_);
      w.data_ = file.raw(*info);
      w.pack();
      break;
    default: {  // F32 / F16 / BF16: an owned F32 copy
      Tensor t = file.dequantize(*info);
      w.owned_.resize(static_cast<size_t>(rows * cols) * sizeof(float));
      std::memcpy(w.owned_.data(), t.data<float>(), w.owned_.size());
      w.row_bytes_ = cols * static_cast<int64_t>(sizeof(float));
    }
  }
  return w;
}

WeightMatrix WeightMatrix::from_f32(std::vector<float> values, int64_t rows, int64_t cols) {
  SDNC_CHECK(static_cast<int64_t>(values.size()) == rows * cols, "weight_matrix",
             "{} values for a [{}, {}] matrix", values.size(), rows, cols);
  WeightMatrix w;
  w.rows_ = rows;
  w.cols_ = cols;
  w.owned_.resize(values.size() * sizeof(float));
  std::memcpy(w.owned_.data(), values.data(), w.owned_.size());
  w.row_bytes_ = cols * static_cast<int64_t>(sizeof(float));
  return w;
}

void WeightMatrix::pack() {
  packed_ = std::make_shared<const cpu::PackedQuantWeight>(cpu::pack_quant_weight(qtype_, rows_, cols_, ptr()));
}

int64_t WeightMatrix::bytes() const { return rows_ * row_bytes_; }

void WeightMatrix::times(int64_t M, const float* x, int64_t ldx, float* y, int64_t ldy, int64_t o0,
                         int64_t o1, bool accumulate) const {
  if (quantized_) {
    cpu::packed_rows_times_weight_t(*packed_, M, x, ldx, y, ldy, o0, o1, accumulate);
  } else {
    cpu::rows_times_weight_t(M, cols_, x, ldx, reinterpret_cast<const float*>(ptr()), nullptr, y, ldy,
                             o0, o1, accumulate ? cpu::RowEpilogue::Accumulate : cpu::RowEpilogue::Store);
  }
}

void WeightMatrix::times_int8(const float* x, const cpu::Q8Rows& xq, float* y, int64_t o0, int64_t o1,
                              bool accumulate) const {
  if (quantized_)
    cpu::packed_rows_times_weight_t_q8(*packed_, 1, xq.codes, xq.scale, xq.sum, y, rows_, o0, o1, accumulate);
  else
    times(1, x, cols_, y, rows_, o0, o1, accumulate);
}

void WeightMatrix::row(int64_t r, float* out) const {
  SDNC_CHECK(r >= 0 && r < rows_, "weight_matrix", "row {} outside [0, {})", r, rows_);
  if (!quantized_) {
    std::memcpy(out, ptr() + r * row_bytes_, static_cast<size_t>(cols_) * sizeof(float));
    return;
  }
  const gguf::TensorType t = qtype_ == cpu::QuantType::Q4_0   ? gguf::TensorType::Q4_0
                             : qtype_ == cpu::QuantType::Q4_1 ? gguf::TensorType::Q4_1
                                                              : gguf::TensorType::Q8_0;
  gguf::dequantize_row(t, ptr() + r * row_bytes_, out, cols_);
}

std::vector<float> WeightMatrix::dequantized() const {
  std::vector<float> out(static_cast<size_t>(rows_ * cols_));
  for (int64_t r = 0; r < rows_; ++r) row(r, out.data() + r * cols_);
  return out;
}

WeightMatrix WeightMatrix::permuted_rows(const std::vector<int64_t>& perm) const {
  SDNC_CHECK(static_cast<int64_t>(perm.size()) == rows_, "weight_matrix", "permutation of {} rows for {}",
             perm.size(), rows_);
  WeightMatrix w = *this;
  w.owned_.resize(static_cast<size_t>(rows_ * row_bytes_));
  for (int64_t r = 0; r < rows_; ++r)
    std::memcpy(w.owned_.data() + r * row_bytes_, ptr() + perm[r] * row_bytes_, static_cast<size_t>(row_bytes_));
  w.data_ = nullptr;
  if (quantized_) w.pack();
  return w;
}

}  // namespace sdnc::models
