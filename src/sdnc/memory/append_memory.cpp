#include "sdnc/memory/append_memory.h"

#include <cstring>

namespace sdnc::memory {

AppendOnceMemory::AppendOnceMemory(int64_t batch, int64_t heads, int64_t key_dim, int64_t value_dim, DType dtype,
                                   int64_t initial_capacity)
    : B_(batch), H_(heads), Dk_(key_dim), Dv_(value_dim), dtype_(dtype) {
  grow(std::max<int64_t>(1, initial_capacity));
}

void AppendOnceMemory::grow(int64_t needed) {
  int64_t old_cap = capacity();
  if (needed <= old_cap) return;
  int64_t cap = std::max(needed, 2 * old_cap);
  Tensor k = Tensor::zeros({B_, H_, cap, Dk_}, dtype_), v = Tensor::zeros({B_, H_, cap, Dv_}, dtype_);
  size_t width = dtype_size(dtype_);
  for (int64_t bh = 0; bh < B_ * H_ && old_cap > 0; ++bh) {
    std::memcpy(static_cast<char*>(k.raw_data()) + bh * cap * Dk_ * width,
                static_cast<char*>(keys_.raw_data()) + bh * old_cap * Dk_ * width, size_ * Dk_ * width);
    std::memcpy(static_cast<char*>(v.raw_data()) + bh * cap * Dv_ * width,
                static_cast<char*>(values_.raw_data()) + bh * old_cap * Dv_ * width, size_ * Dv_ * width);
  }
  std::vector<uint8_t> pad(B_ * cap, 0);
  for (int64_t b = 0; b < B_; ++b)
    for (int64_t j = 0; j < size_; ++j) pad[b * cap + j] = padding_[b * old_cap + j];
  keys_ = k, values_ = v, padding_ = std::move(pad);
}

void AppendOnceMemory::write(const Tensor& k, const Tensor& v, const Tensor& padding) {
  const char* op = "memory_write";
  if (k.ndim() != 4 || k.size(0) != B_ || k.size(1) != H_ || k.size(3) != Dk_ || k.dtype() != dtype_)
    fail(op, "keys {} {} do not fit a memory of [B={}, H={}, ·, Dk={}] {}", dtype_name(k.dtype()),
         shape_str(k.shape()), B_, H_, Dk_, dtype_name(dtype_));
  int64_t n = k.size(2);
  if (v.shape() != Shape{B_, H_, n, Dv_} || v.dtype() != dtype_)
    fail(op, "values {} do not match keys {}", shape_str(v.shape()), shape_str(k.shape()));
  grow(size_ + n);
  int64_t cap = capacity();
  size_t width = dtype_size(dtype_);
  for (int64_t bh = 0; bh < B_ * H_; ++bh) {
    std::memcpy(static_cast<char*>(keys_.raw_data()) + (bh * cap + size_) * Dk_ * width,
                static_cast<const char*>(k.raw_data()) + bh * n * Dk_ * width, n * Dk_ * width);
    std::memcpy(static_cast<char*>(values_.raw_data()) + (bh * cap + size_) * Dv_ * width,
                static_cast<const char*>(v.raw_data()) + bh * n * Dv_ * width, n * Dv_ * width);
  }
  if (padding.defined()) {
    if (padding.shape() != Shape{B_, n})
      fail(op, "padding {} must be [B, n] = [{}, {}]", shape_str(padding.shape()), B_, n);
    auto flags = padding.to_doubles();
    for (int64_t b = 0; b < B_; ++b)
      for (int64_t j = 0; j < n; ++j) {
        padding_[b * cap + size_ + j] = flags[b * n + j] != 0.0;
        any_padding_ |= flags[b * n + j] != 0.0;
      }
  }
  size_ += n;
}

int64_t AppendOnceMemory::append_in_place(int64_t n) {
  if (n < 0) fail("memory_write", "cannot append {} slots", n);
  grow(size_ + n);
  int64_t first = size_;
  size_ += n;
  return first;
}

Tensor AppendOnceMemory::padding() const {
  if (!any_padding_) return Tensor();
  Tensor p = Tensor::zeros({B_, size_}, DType::I64);
  int64_t cap = capacity();
  for (int64_t b = 0; b < B_; ++b)
    for (int64_t j = 0; j < size_; ++j) p.data<int64_t>()[b * size_ + j] = padding_[b * cap + j];
  return p;
}

}  // namespace sdnc::memory
