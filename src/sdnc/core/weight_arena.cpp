#include "sdnc/core/weight_arena.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "sdnc/core/error.h"
#include "sdnc/core/huge_pages.h"

namespace sdnc {

namespace {

constexpr const char* kOp = "weight_arena";
constexpr size_t kSliceAlign = 64;
constexpr size_t kChunkBytes = size_t{32} << 20;

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

std::shared_ptr<void> map_chunk(size_t bytes) {
  void* chunk = huge_pages_map(bytes);
  if (!chunk) fail(kOp, "out of memory mapping {} bytes for packed weights", bytes);
  return std::shared_ptr<void>(chunk, [bytes](void* p) { huge_pages_unmap(p, bytes); });
}

struct Arena {
  std::mutex mutex;
  std::weak_ptr<void> chunk;  // the chunk slices are carved from now; gone when its slices are
  size_t used = 0;
};

}  // namespace

std::shared_ptr<void> weight_arena_alloc(size_t bytes) {
  SDNC_CHECK(bytes > 0, kOp, "a slice of 0 bytes");
  const size_t size = round_up(bytes, kSliceAlign);
  if (!huge_pages_available()) {  // every slice its own block (AddressSanitizer checks its bounds)
    void* p = std::aligned_alloc(kSliceAlign, size);
    if (!p) fail(kOp, "out of memory allocating {} bytes for packed weights", bytes);
    std::memset(p, 0, size);
    return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  }
  if (size > kChunkBytes / 2) return map_chunk(size);  // a chunk of its own
  static Arena* arena = new Arena;  // never destroyed: slices may be dropped during exit
  std::lock_guard<std::mutex> lock(arena->mutex);
  std::shared_ptr<void> chunk = arena->chunk.lock();
  if (!chunk || arena->used + size > kChunkBytes) {
    chunk = map_chunk(kChunkBytes);
    arena->chunk = chunk, arena->used = 0;
  }
  void* p = static_cast<char*>(chunk.get()) + arena->used;
  arena->used += size;
  return std::shared_ptr<void>(chunk, p);  // shares the chunk's ownership
}

}  // namespace sdnc
