// read_heads.h — R read heads reading a key/value memory by content (multi-head
// attention = several read heads, each on its own slice of the memory).
#pragma once
#include "sdnc/core/tensor.h"
#include "sdnc/memory/append_memory.h"

namespace sdnc::memory {

// [B, T, H·Dh] → [B, H, T, Dh] (one slice of the interface vector per head).
Tensor split_heads(const Tensor& x, int64_t heads);
// [B, H, T, Dh] → [B, T, H·Dh].
Tensor merge_heads(const Tensor& x);

// Parallel form: every position's read over the memory written by all positions at once.
// q [B, H, T, Dh], k/v [B, H, S, D·]; causal: position t reads slots 0..t (+ S − T);
// key_padding_mask [B, S] nonzero = never read. weights (optional) ← [B, H, T, S].
Tensor read_parallel(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_padding_mask, bool causal,
                     double scale, Tensor* weights = nullptr);

// Recurrent form: q [B, H, T, Dh] read from the slots written so far (no autograd). causal:
// the T queries belong to the last T slots written, and query t sees slots up to its own
// (a step that writes and reads several positions at once, e.g. a prompt's prefill).
Tensor read_memory(const Tensor& q, const AppendOnceMemory& memory, double scale, Tensor* weights = nullptr,
                   bool causal = false);

}  // namespace sdnc::memory
