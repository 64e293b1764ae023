// huge_pages.h — mappings that the kernel may back with 2 MiB pages (transparent huge pages).
//
// A kernel streaming tens of MB from memory with 4 KiB pages stalls on a TLB miss every
// 4 KiB; from 2 MiB pages it reads at the core's bandwidth (docs/performance_log.md, "Huge pages
// for packed weights"). A mapping here starts on a 2 MiB boundary and is advised MADV_HUGEPAGE,
// which the kernel honours in its "madvise" and "always" THP modes ("never" keeps 4 KiB pages:
// only the speed changes). Only whole 2 MiB ranges inside the mapping become huge pages, so a
// mapping's tail past its last 2 MiB boundary costs no more than it would otherwise.
//
// Not under AddressSanitizer (callers keep the C allocator there, whose bounds it checks) and
// only on Linux: huge_pages_available() says whether this build maps.
#pragma once
#include <cstddef>

namespace sdnc {

bool huge_pages_available();

// `bytes` (> 0) of zero-filled memory starting on a 2 MiB boundary, advised for huge pages;
// nullptr when the system refuses the mapping or !huge_pages_available().
void* huge_pages_map(size_t bytes);
// Unmaps a mapping from huge_pages_map with the same `bytes`.
void huge_pages_unmap(void* p, size_t bytes);

}  // namespace sdnc
