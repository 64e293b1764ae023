// weight_arena.h — memory for long-lived, read-mostly buffers that kernels stream from memory:
// the packed weight copies (backend/cpu/packed_gemm.h, quant_gemv_packed.h).
//
// Slices are carved from 32 MiB chunks from core/huge_pages.h (2 MiB aligned, advised for
// transparent huge pages): a product of a few rows reads each weight once, from memory, and
// from 4 KiB pages that stream stalls on the TLB (MiniLM's products at M = 16: 74 GFLOP/s from
// 4 KiB pages, 108 from 2 MiB ones; docs/performance_log.md, "Huge pages for packed weights").
//
// Ownership. A slice keeps its chunk alive (a shared_ptr aliasing the chunk's); a chunk is
// unmapped when its last slice goes. A slice larger than half a chunk gets a chunk of its own.
// A slice freed while others of its chunk live is not reused, so the arena suits buffers made
// once at load and dropped together, not scratch memory.
//
// Where huge_pages_available() is false (AddressSanitizer, not Linux) every slice is its own
// aligned_alloc, so that AddressSanitizer reports a read past a slice.
#pragma once
#include <cstddef>
#include <memory>

namespace sdnc {

// At least `bytes` (≥ 1) writable bytes, 64-byte aligned, zero-filled; fails ("[weight_arena]
// out of memory …") when the system refuses the mapping.
std::shared_ptr<void> weight_arena_alloc(size_t bytes);

}  // namespace sdnc
