// The memory of packed weight copies (core/weight_arena.h): slices are 64-byte aligned,
// zero-filled, writable over their whole length and disjoint while they live; a chunk stays
// mapped while any of its slices does; and on Linux the memory is advised for transparent huge
// pages (the kernel reports the mapping as THP-eligible), which is what the packed kernels'
// speed rests on.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "sdnc/core/huge_pages.h"
#include "sdnc/core/weight_arena.h"

namespace sdnc {
namespace {

TEST(WeightArena, SlicesAreAlignedZeroedWritableAndDisjoint) {
  // Sizes below and above the chunk's half (32 MiB chunks: 16 MiB and more get their own).
  const std::vector<size_t> sizes = {1, 63, 64, 65, 4096, size_t{3} << 20, size_t{1} << 20, 100, size_t{17} << 20, 7};
  std::vector<std::pair<std::shared_ptr<void>, size_t>> live;
  for (size_t bytes : sizes) {
    SCOPED_TRACE(bytes);
    std::shared_ptr<void> s = weight_arena_alloc(bytes);
    ASSERT_NE(s.get(), nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(s.get()) % 64, 0u);
    const auto* p = static_cast<const unsigned char*>(s.get());
    EXPECT_TRUE(std::all_of(p, p + bytes, [](unsigned char c) { return c == 0; }));
    std::memset(s.get(), static_cast<int>(live.size() + 1), bytes);  // the whole length is ours (ASan checks it)
    live.emplace_back(std::move(s), bytes);
  }
  // Disjoint: every slice still holds its own fill after all were written.
  for (size_t i = 0; i < live.size(); ++i) {
    const auto* p = static_cast<const unsigned char*>(live[i].first.get());
    EXPECT_TRUE(std::all_of(p, p + live[i].second, [&](unsigned char c) { return c == i + 1; })) << "slice " << i;
  }
}

TEST(WeightArena, AChunkLivesWhileAnyOfItsSlicesDoes) {
  std::shared_ptr<void> first = weight_arena_alloc(1000), second = weight_arena_alloc(1000);
  first.reset();  // the chunk they share (when they share one) must stay mapped for `second`
  std::memset(second.get(), 0x5a, 1000);
  EXPECT_EQ(static_cast<const unsigned char*>(second.get())[999], 0x5a);
}

// The "THPeligible" line of the /proc/self/smaps entry that holds `p`, or -1 if none.
int thp_eligible(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  const auto at = reinterpret_cast<uintptr_t>(p);
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (line.find(':') > line.find(' ') && (head >> std::hex >> lo >> dash >> hi) && dash == '-') {
      inside = lo <= at && at < hi;
      continue;
    }
    if (inside && line.rfind("THPeligible:", 0) == 0) return std::stoi(line.substr(12));
  }
  return -1;
}

TEST(WeightArena, SlicesAreAdvisedForHugePages) {
  if (!huge_pages_available()) GTEST_SKIP() << "no huge-page advice in this build (AddressSanitizer or not Linux)";
  std::ifstream mode("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  if (!std::getline(mode, modes)) GTEST_SKIP() << "this kernel has no transparent huge pages";
  if (modes.find("[never]") != std::string::npos) GTEST_SKIP() << "transparent huge pages are off here: " << modes;
  for (size_t bytes : {size_t{4096}, size_t{24} << 20}) {  // a slice of a shared chunk, one of its own
    std::shared_ptr<void> s = weight_arena_alloc(bytes);
    std::memset(s.get(), 1, bytes);
    EXPECT_EQ(thp_eligible(s.get()), 1) << bytes << " bytes; THP mode " << modes;
  }
}

}  // namespace
}  // namespace sdnc
