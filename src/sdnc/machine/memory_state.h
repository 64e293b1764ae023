// memory_state.h — one machine layer's external memory and addressing state, carried from
// step to step. n is the number of slots now: N for write=allocate (all zero at the start,
// DNC.md A.0); for write=append it grows by one slot per step from 0 (the KV cache), up to
// memory_slots when bounded. Undefined tensors: the part does not exist for these dials, or
// the memory is still empty.
// Legend: B batch, n slots, R read heads, H write heads, S slices, W word size.
#pragma once
#include "sdnc/core/tensor.h"

namespace sdnc::machine {

struct MemoryState {
  Tensor keys;           // [B, n, S·W]  the words (key_value=shared) or the keys
  Tensor values;         // [B, n, S·W]  key_value=separate only
  Tensor usage;          // [B, n]       allocate, bounded append
  Tensor write_weights;  // [B, H, n]
  Tensor read_weights;   // [B, R, n]
  Tensor link;           // [B, H, n, n] read_modes=links with allocate or bounded append
                         //              (an unbounded append memory's link is the shift: not stored)
  Tensor precedence;     // [B, H, n]    with link
  // Inference only (no autograd, B = 1): the storage the append memory grows into in place,
  // capacity doubling, so that generation does not copy the memory at every step. keys and
  // values are then views of their first n rows. A copied state shares them: step one copy only.
  Tensor key_buffer, value_buffer;  // [1, capacity, S·W]
  int64_t slots() const { return keys.defined() ? keys.size(1) : 0; }
  const Tensor& read_source() const { return values.defined() ? values : keys; }  // what reads return
};

}  // namespace sdnc::machine
