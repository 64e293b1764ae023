// WordPiece's greedy longest-match-first, on a small vocabulary whose answers are worked out by
// hand from the algorithm (at each character the longest piece that is a token, "##" before
// every piece but the first; a word with a piece in no token, or longer than max_chars
// characters, is [UNK]). They pin what the matcher must keep while it tries only pieces no
// longer than the longest token: a piece exactly that long (with its prefix) is still found,
// and max_chars counts characters, not bytes. Checked against Hugging Face `tokenizers`
// (models.WordPiece on the same vocabulary) when written.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "sdnc/tokenizers/wordpiece.h"

namespace sdnc {
namespace {

// ids: 0 [UNK], 1 [CLS], 2 [SEP], 3 ab, 4 ##cdé, 5 ##é, 6 a, 7 ##a, 8 ##b, 9 ##bcdéx (the longest
// token: 8 bytes), 10 é.
tokenizers::WordPiece small_vocab() {
  const std::string path = ::testing::TempDir() + "wordpiece_matching_vocab.txt";
  std::ofstream(path, std::ios::binary) << "[UNK]\n[CLS]\n[SEP]\nab\n##cd\xc3\xa9\n##\xc3\xa9\na\n##a\n##b\n"
                                           "##bcd\xc3\xa9x\n\xc3\xa9\n";
  tokenizers::WordPieceOptions options;
  options.strip_accents = false;  // keep é
  return tokenizers::WordPiece::from_vocab_txt(path, options);
}

std::vector<int64_t> ids(const tokenizers::WordPiece& wp, const std::string& text) {
  return wp.encode(text, false);
}

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int k = 0; k < n; ++k) out += s;
  return out;
}

TEST(WordPieceMatching, LongestPieceFirst) {
  const auto wp = small_vocab();
  EXPECT_EQ(ids(wp, "abcd\xc3\xa9\xc3\xa9"), (std::vector<int64_t>{3, 4, 5}));  // ab ##cdé ##é
  EXPECT_EQ(ids(wp, "abcd\xc3\xa9x"), (std::vector<int64_t>{0}));               // ab ##cdé, then x: none
  EXPECT_EQ(ids(wp, "ab ab"), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(wp.encode("a"), (std::vector<int64_t>{1, 6, 2}));
}

TEST(WordPieceMatching, APieceAsLongAsTheLongestTokenIsFound) {
  const auto wp = small_vocab();
  // ab, then ##bcdéx: 2 + 6 bytes, the longest token exactly. Missing it would give
  // ab ##b ##cdé, then x: [UNK].
  EXPECT_EQ(ids(wp, "abbcd\xc3\xa9x"), (std::vector<int64_t>{3, 9}));
}

TEST(WordPieceMatching, MaxCharsCountsCharactersNotBytes) {
  const auto wp = small_vocab();
  std::vector<int64_t> a100(100, 7);
  a100[0] = 6;
  EXPECT_EQ(ids(wp, repeat("a", 100)), a100);
  EXPECT_EQ(ids(wp, repeat("a", 101)), (std::vector<int64_t>{0}));
  std::vector<int64_t> e100(100, 5);  // 100 characters, 200 bytes
  e100[0] = 10;
  EXPECT_EQ(ids(wp, repeat("\xc3\xa9", 100)), e100);
  EXPECT_EQ(ids(wp, repeat("\xc3\xa9", 101)), (std::vector<int64_t>{0}));
}

}  // namespace
}  // namespace sdnc
