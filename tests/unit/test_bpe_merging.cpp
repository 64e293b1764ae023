// Byte-level BPE's merge order, on a small vocabulary whose answers are worked out by hand from
// the rule (merge the adjacent pair of lowest rank, leftmost first among equals, until none is
// left; a byte with no token is the unknown token, consecutive ones fused) and checked against
// Hugging Face `tokenizers` (models.BPE with fuse_unk on the same vocabulary and merges) when
// written. They pin what the queue-based merger must keep: rank before position, the leftmost
// of equal pairs, pairs made stale by a neighbouring merge, and merges of merged parts.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sdnc/tokenizers/bpe.h"

namespace sdnc {
namespace {

// ids: 0 <unk>, 1 a, 2 b, 3 c, 4 aa, 5 bc, 6 ab, 7 aaaa, 8 aabc; ranks: "a a" 0, "b c" 1,
// "a b" 2, "aa aa" 3, "aa bc" 4.
tokenizers::Bpe small_bpe() {
  return tokenizers::Bpe({"<unk>", "a", "b", "c", "aa", "bc", "ab", "aaaa", "aabc"},
                         {"a a", "b c", "a b", "aa aa", "aa bc"}, {}, tokenizers::Bpe::PreTokenizer::gpt2, 0,
                         "test");
}

TEST(BpeMerging, LowestRankFirstThenLeftmost) {
  const auto bpe = small_bpe();
  EXPECT_EQ(bpe.encode("abc"), (std::vector<int64_t>{1, 5}));  // "b c" (1) before "a b" (2)
  EXPECT_EQ(bpe.encode("aaa"), (std::vector<int64_t>{4, 1}));  // the left "a a" of two
  EXPECT_EQ(bpe.encode("aabc"), (std::vector<int64_t>{8}));    // aa, bc, then "aa bc"
}

TEST(BpeMerging, PairsMadeStaleByAMergeAreSkipped) {
  const auto bpe = small_bpe();
  EXPECT_EQ(bpe.encode("aaaa"), (std::vector<int64_t>{7}));
  EXPECT_EQ(bpe.encode("aaaaa"), (std::vector<int64_t>{7, 1}));
  EXPECT_EQ(bpe.encode(std::string(9, 'a')), (std::vector<int64_t>{7, 7, 1}));
}

TEST(BpeMerging, BytesWithoutATokenAreOneFusedUnknown) {
  const auto bpe = small_bpe();
  EXPECT_EQ(bpe.encode("abd"), (std::vector<int64_t>{6, 0}));
  EXPECT_EQ(bpe.encode("add"), (std::vector<int64_t>{1, 0}));
}

}  // namespace
}  // namespace sdnc
