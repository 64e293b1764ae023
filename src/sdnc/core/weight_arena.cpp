#include "sdnc/core/weight_arena.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "sdnc/core/error.h"

#if defined(__linux__) && !defined(__SANITIZE_ADDRESS__)
#include <sys/mman.h>
#define SDNC_WEIGHT_ARENA_MMAP 1
#endif

namespace sdnc {

namespace {

constexpr const char* kOp = "weight_arena";
constexpr size_t kSliceAlign = 64;

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

#if defined(SDNC_WEIGHT_ARENA_MMAP)
constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kChunkBytes = size_t{32} << 20;

// A mapping of `bytes` (a multiple of 2 MiB) starting on a 2 MiB boundary: map 2 MiB more than
// needed and unmap the misaligned head and the tail. Fresh anonymous pages read as zero.
std::shared_ptr<void> map_chunk(size_t bytes) {
  void* raw = mmap(nullptr, bytes + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) fail(kOp, "out of memory mapping {} bytes for packed weights", bytes);
  const auto start = reinterpret_cast<uintptr_t>(raw), aligned = round_up(start, kHugePage);
  if (aligned > start) munmap(raw, aligned - start);
  munmap(reinterpret_cast<void*>(aligned + bytes), start + kHugePage - aligned);
  void* chunk = reinterpret_cast<void*>(aligned);
  madvise(chunk, bytes, MADV_HUGEPAGE);  // advice: a kernel without THP keeps 4 KiB pages
  return std::shared_ptr<void>(chunk, [bytes](void* p) { munmap(p, bytes); });
}

struct Arena {
  std::mutex mutex;
  std::weak_ptr<void> chunk;  // the chunk slices are carved from now; gone when its slices are
  size_t chunk_bytes = 0, used = 0;
};
#endif

}  // namespace

bool weight_arena_advises_huge_pages() {
#if defined(SDNC_WEIGHT_ARENA_MMAP)
  return true;
#else
  return false;
#endif
}

std::shared_ptr<void> weight_arena_alloc(size_t bytes) {
  SDNC_CHECK(bytes > 0, kOp, "a slice of 0 bytes");
  const size_t size = round_up(bytes, kSliceAlign);
#if defined(SDNC_WEIGHT_ARENA_MMAP)
  if (size > kChunkBytes / 2) return map_chunk(round_up(size, kHugePage));  // its own chunk
  static Arena* arena = new Arena;  // never destroyed: slices may be dropped during exit
  std::lock_guard<std::mutex> lock(arena->mutex);
  std::shared_ptr<void> chunk = arena->chunk.lock();
  if (!chunk || arena->used + size > arena->chunk_bytes) {
    chunk = map_chunk(kChunkBytes);
    arena->chunk = chunk, arena->chunk_bytes = kChunkBytes, arena->used = 0;
  }
  void* p = static_cast<char*>(chunk.get()) + arena->used;
  arena->used += size;
  return std::shared_ptr<void>(chunk, p);  // shares the chunk's ownership
#else
  void* p = std::aligned_alloc(kSliceAlign, size);
  if (!p) fail(kOp, "out of memory allocating {} bytes for packed weights", bytes);
  std::memset(p, 0, size);
  return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
#endif
}

}  // namespace sdnc
