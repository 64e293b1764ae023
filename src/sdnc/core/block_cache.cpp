#include "sdnc/core/block_cache.h"

#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace sdnc {

namespace {

constexpr size_t kMinBytes = size_t{64} << 10;  // smaller blocks: glibc's own bins reuse them
constexpr size_t kPage = 4096;

size_t rounded_size(size_t bytes) {
  if (bytes >= kMinBytes) return (bytes + kPage - 1) / kPage * kPage;
  size_t r = (bytes + 63) / 64 * 64;
  return r == 0 ? 64 : r;
}

struct Cache {
  std::mutex mutex;
  std::unordered_map<size_t, std::vector<void*>> free_blocks;  // by rounded size
  size_t cached_bytes = 0, capacity = 0;
  Cache() {
    const char* env = std::getenv("SDNC_BLOCK_CACHE_MB");
    capacity = (env ? std::stoull(env) : 2048ull) << 20;
  }
  // Never destroyed: blocks may be freed during static destruction.
};

Cache& cache() {
  static Cache* c = new Cache;
  return *c;
}

// Small blocks (under kMinBytes): a per-thread free list per 64-byte size class. A DNC step
// at the D1 size allocates hundreds of small tensors, and glibc's aligned_alloc (memalign)
// spent ≈ 12 % of D1's step splitting and consolidating chunks. A list is a chain through
// the blocks' first bytes; a thread keeps at most kSmallCacheBytes. A block freed on another
// thread than it was allocated on joins the freeing thread's lists (every block is an
// aligned_alloc of its class size, so any thread may hand it out). Off under AddressSanitizer,
// which must see every small free to catch a use after it.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSmallCache = false;
#else
constexpr bool kSmallCache = true;
#endif
constexpr size_t kSmallClasses = kMinBytes / 64;  // class c holds blocks of (c + 1) · 64 bytes
constexpr size_t kSmallCacheBytes = size_t{16} << 20;

struct SmallCache {
  void* head[kSmallClasses] = {};
  size_t cached_bytes = 0;
  ~SmallCache();
};
thread_local bool t_small_cache_gone = false;  // trivially destructible: readable after ~SmallCache

SmallCache::~SmallCache() {
  t_small_cache_gone = true;
  for (void* p : head)
    while (p) {
      void* next = *static_cast<void**>(p);
      std::free(p);
      p = next;
    }
}

SmallCache* small_cache() {
  if (!kSmallCache || t_small_cache_gone) return nullptr;
  thread_local SmallCache c;
  return &c;
}

}  // namespace

void* block_alloc(size_t bytes) {
  const size_t size = rounded_size(bytes);
  if (size >= kMinBytes) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    auto it = c.free_blocks.find(size);
    if (it != c.free_blocks.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.cached_bytes -= size;
      return p;
    }
  } else if (SmallCache* sc = small_cache()) {
    void*& head = sc->head[size / 64 - 1];
    if (head) {
      void* p = head;
      head = *static_cast<void**>(p);
      sc->cached_bytes -= size;
      return p;
    }
  }
  return std::aligned_alloc(64, size);
}

void block_free(void* p, size_t bytes) {
  if (!p) return;
  const size_t size = rounded_size(bytes);
  if (size >= kMinBytes) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    if (c.cached_bytes + size <= c.capacity) {
      c.free_blocks[size].push_back(p);
      c.cached_bytes += size;
      return;
    }
  } else if (SmallCache* sc = small_cache(); sc && sc->cached_bytes + size <= kSmallCacheBytes) {
    void*& head = sc->head[size / 64 - 1];
    *static_cast<void**>(p) = head;
    head = p;
    sc->cached_bytes += size;
    return;
  }
  std::free(p);
}

}  // namespace sdnc
