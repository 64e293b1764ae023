// append_memory.h — the write-once key/value memory of an sDNC (the KV cache).
//
// Each write fills the next slots with a key and a value per head; nothing is erased or
// overwritten, and capacity grows with the sequence. This is what a DNC's allocation
// yields when every earlier slot is in use and nothing is freed: a one-hot write weighting
// on the next free slot, erase vector 0, write gate 1.
//
// Storage: keys [B, H, capacity, Dk], values [B, H, capacity, Dv]; slots 0..size()-1 are
// written. The recurrent form uses it without autograd (inference and generation); the
// parallel form never materialises it (its keys and values are the projections of all
// positions at once).
#pragma once
#include "sdnc/core/tensor.h"

namespace sdnc::memory {

class AppendOnceMemory {
 public:
  AppendOnceMemory() = default;
  AppendOnceMemory(int64_t batch, int64_t heads, int64_t key_dim, int64_t value_dim, DType dtype,
                   int64_t initial_capacity = 64);

  // Appends n slots: k [B, H, n, Dk], v [B, H, n, Dv]; padding [B, n] (nonzero = the slot
  // holds padding and is never read) may be undefined.
  void write(const Tensor& k, const Tensor& v, const Tensor& padding = Tensor());

  // Appends n slots that the caller fills in place, before reading them: grows the storage
  // if needed (capacity doubles) and returns the first new slot; keys of slot j for
  // (b, h) then live at key_storage() element ((b·H + h)·capacity() + j)·Dk, values alike.
  // (The single-token decoding path writes its projections straight into the memory.)
  int64_t append_in_place(int64_t n);

  int64_t batch() const { return B_; }
  int64_t size() const { return size_; }
  int64_t capacity() const { return keys_.defined() ? keys_.size(2) : 0; }
  // Raw storage (capacity slots); only the first size() are valid.
  const Tensor& key_storage() const { return keys_; }
  const Tensor& value_storage() const { return values_; }
  // Padding flags of the written slots [B, size()] (undefined when nothing was padded).
  Tensor padding() const;

 private:
  void grow(int64_t needed);
  int64_t B_ = 0, H_ = 0, Dk_ = 0, Dv_ = 0, size_ = 0;
  DType dtype_ = DType::F32;
  Tensor keys_, values_;
  std::vector<uint8_t> padding_;  // [B, capacity]
  bool any_padding_ = false;
};

}  // namespace sdnc::memory
