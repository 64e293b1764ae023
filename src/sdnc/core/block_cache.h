// block_cache.h — reuse of CPU blocks. A training step allocates the same large
// tensors every step (a DNC keeps B·H·N² floats of link per time step for the backward), and
// every fresh page costs a page fault and its zeroing when first written (measured ~4.5 µs
// per 4 KiB page on this project's VMs: the D2 step's forward ran 2.4x slower in a chain
// that keeps its memory than in a loop that frees it). Blocks of at least kMinBytes are kept
// when freed, keyed by their exact (page-rounded) size, and handed out again for the same
// size. Smaller blocks go to a per-thread free list per 64-byte size class (at most 16 MiB
// per thread; off under AddressSanitizer), else to the C allocator.
//
// The cache holds at most SDNC_BLOCK_CACHE_MB MiB of freed blocks (default 2048; 0 turns
// it off). It is process-wide and thread-safe (one mutex; only large blocks take it).
#pragma once
#include <cstddef>

namespace sdnc {

// 64-byte aligned, at least `bytes` long; nullptr when out of memory.
void* block_alloc(size_t bytes);
// Returns a block from block_alloc with the same `bytes`.
void block_free(void* p, size_t bytes);

}  // namespace sdnc
