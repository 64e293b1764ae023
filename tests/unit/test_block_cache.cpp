// The block allocator behind every tensor (core/block_cache.h): blocks are 64-byte aligned and
// at least as long as asked, a freed block is handed out again for the same size class (small
// blocks per thread, large ones process-wide), and blocks freed on another thread are usable.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "sdnc/core/block_cache.h"

namespace sdnc {
namespace {

bool aligned64(const void* p) { return reinterpret_cast<uintptr_t>(p) % 64 == 0; }

TEST(BlockCache, BlocksAreAlignedWritableAndReusedBySize) {
  for (size_t bytes : {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{4000}, size_t{65535},
                       size_t{65536}, size_t{1} << 20}) {
    SCOPED_TRACE(bytes);
    void* a = block_alloc(bytes);
    ASSERT_NE(a, nullptr);
    EXPECT_TRUE(aligned64(a));
    std::memset(a, 0x5a, bytes);  // the whole length is ours (ASan checks it)
    block_free(a, bytes);
#if !defined(__SANITIZE_ADDRESS__)
    void* b = block_alloc(bytes);  // the same class: the block just freed
    EXPECT_EQ(b, a);
    block_free(b, bytes);
#endif
  }
}

TEST(BlockCache, DistinctLiveBlocksAndCrossThreadFrees) {
  std::vector<void*> live;
  for (int i = 0; i < 100; ++i) {
    void* p = block_alloc(192);
    std::memset(p, i, 192);
    live.push_back(p);
  }
  for (int i = 0; i < 100; ++i) EXPECT_EQ(static_cast<unsigned char*>(live[i])[191], i);  // none overlap
  std::thread([&] {
    for (void* p : live) block_free(p, 192);  // freed on a thread that did not allocate them
    for (int i = 0; i < 100; ++i) {
      void* p = block_alloc(192);  // that thread reuses them
      std::memset(p, 0, 192);
      block_free(p, 192);
    }
  }).join();
  void* q = block_alloc(192);  // this thread's own lists still work
  std::memset(q, 1, 192);
  block_free(q, 192);
}

}  // namespace
}  // namespace sdnc
