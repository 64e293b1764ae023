// write_head.h — how a step writes its memory, in the order of DNC.md "Order of one step"
// (usage → write weights → erase/add → link → precedence). Three write heads:
//
//   append (unbounded)  the next free slot, one-hot: slot t at step t, nothing erased
//                       (what allocation yields when every earlier slot is in use and
//                       nothing is freed; MISSION.md's table). The memory grows by one slot.
//   append (bounded N)  as above until N slots are full; then usage-based allocation picks
//                       the slot to reuse (learned eviction): w = a / (Σa + ε), a = allocation(u_t), the old
//                       content erased where written (e = 1), then added. Usage follows the
//                       DNC: u_t = (u + (1 − u)∘w_{t−1}) ∘ Π_r(1 − f_r w^r_{t−1}).
//                       With eviction = window | h2o | tova a fixed rule picks the slot instead
//                       (StreamingLLM sinks + sliding window; H2O heavy hitters: least read
//                       weight accumulated; TOVA: least read weight at the last step); usage
//                       then holds the rule's score per slot (write_head.cpp eviction_scores).
//   allocate            the DNC's write (DNC.md A.4–A.7): usage, allocation over H heads,
//                       content lookup on the old memory, gates, erase then add.
// Then, with read_modes=links and a stored link (allocate, bounded append), the temporal
// link and precedence (A.8). A step's write key is stored as the key (key_value=separate) and
// used for the content lookup (allocate); its write value is the value (or the word).
// Legend: B batch, n slots, H write heads, R read heads, S slices, W word size.
#pragma once
#include "sdnc/machine/interface.h"
#include "sdnc/machine/memory_state.h"

namespace sdnc::machine {

// x: the step's interface (at_step: [B, ...]); prev → next.keys, values, usage,
// write_weights, link, precedence (next.read_weights is the read heads' to set).
void write_step(const MachineConfig& config, const Interface& x, const MemoryState& prev, MemoryState& next);

// Appends new_rows [B, k, C] to an append memory's rows [B, n, C] → [B, n + k, C]. Without
// autograd and with B = 1 the rows grow in place: the result is a prefix view of *out_buffer
// [1, capacity, C] (buffer itself while it has room, else a copy with doubled capacity), so
// generation does not copy the memory at every step; otherwise a concatenation.
Tensor append_rows(const Tensor& rows, const Tensor& buffer, const Tensor& new_rows, Tensor& out_buffer);
// A buffer [1, capacity ≥ n + extra, C] whose first n rows are rows [1, n, C]: buffer itself
// when rows are its prefix and it has room, else a copy with doubled capacity.
Tensor reserve_rows(const Tensor& rows, const Tensor& buffer, int64_t extra, int64_t C, DType dtype);

// The initial memory: N zero slots for allocate (DNC.md A.0), no slot for append.
MemoryState initial_memory(const MachineConfig& config, int64_t batch, DType dtype);

}  // namespace sdnc::machine
