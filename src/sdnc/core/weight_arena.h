// weight_arena.h — memory for long-lived, read-mostly buffers that kernels stream from memory:
// the packed weight copies (backend/cpu/packed_gemm.h, quant_gemv_packed.h).
//
// Why. A product of a few rows (a MiniLM sentence, a decoding step) reads each weight once,
// from memory. With 4 KiB pages the stream misses the TLB every 4 KiB and runs far below the
// core's bandwidth: MiniLM's 42.5 MB of packed weights at M = 16 rows streamed at 9.3 GB/s
// (74 GFLOP/s), and at 13.5 GB/s (108 GFLOP/s, the core's sgemm peak) from 2 MiB pages
// (docs/performance_log.md, "Huge pages for packed weights"). Slices are therefore carved from
// chunks that are 2 MiB aligned and advised MADV_HUGEPAGE, which the kernel honours in its
// default "madvise" transparent-huge-page mode (and in "always"; "never" leaves 4 KiB pages,
// which only costs the speed).
//
// Ownership. A slice keeps its chunk alive (a shared_ptr aliasing the chunk's); a chunk is
// unmapped when its last slice goes. Chunks are kChunkBytes (a slice larger than that gets a
// chunk of its own); a slice freed while others of its chunk live is not reused, so the arena
// suits buffers made once at load and dropped together, not scratch memory.
//
// Under AddressSanitizer every slice is its own aligned_alloc, so that a read past a slice is
// reported; off Linux, too (no madvise).
#pragma once
#include <cstddef>
#include <memory>

namespace sdnc {

// At least `bytes` (≥ 1) writable bytes, 64-byte aligned, zero-filled; fails ("[weight_arena]
// out of memory …") when the system refuses the mapping.
std::shared_ptr<void> weight_arena_alloc(size_t bytes);

// Whether slices come from huge-page-advised chunks in this build (false under ASan or off Linux).
bool weight_arena_advises_huge_pages();

}  // namespace sdnc
