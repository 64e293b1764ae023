#include "sdnc/core/huge_pages.h"

#include <cstdint>

#if defined(__linux__) && !defined(__SANITIZE_ADDRESS__)
#include <sys/mman.h>
#define SDNC_HUGE_PAGES 1
#endif

namespace sdnc {

bool huge_pages_available() {
#if defined(SDNC_HUGE_PAGES)
  return true;
#else
  return false;
#endif
}

#if defined(SDNC_HUGE_PAGES)
namespace {
constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kPage = 4096;
}  // namespace

void* huge_pages_map(size_t bytes) {
  if (bytes == 0) return nullptr;
  const size_t size = (bytes + kPage - 1) / kPage * kPage;
  // Map 2 MiB more than needed, then unmap the misaligned head and the rest of the tail.
  void* raw = mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const auto start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
  if (aligned > start) munmap(raw, aligned - start);
  munmap(reinterpret_cast<void*>(aligned + size), start + kHugePage - aligned);
  void* p = reinterpret_cast<void*>(aligned);
  madvise(p, size, MADV_HUGEPAGE);  // advice only: a kernel without THP keeps 4 KiB pages
  return p;
}

void huge_pages_unmap(void* p, size_t bytes) {
  if (p) munmap(p, (bytes + kPage - 1) / kPage * kPage);
}
#else
void* huge_pages_map(size_t) { return nullptr; }
void huge_pages_unmap(void*, size_t) {}
#endif

}  // namespace sdnc
