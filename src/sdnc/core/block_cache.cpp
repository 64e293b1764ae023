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
  }
  std::free(p);
}

}  // namespace sdnc
