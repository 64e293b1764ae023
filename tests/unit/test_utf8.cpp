// io/utf8.h: the UTF-8 validator on the classic ill-formed cases, and printable(), which makes a
// name read from a file safe to quote in a one-line message. Expected values are written out
// by hand from RFC 3629 and the escaping rules of the header.
#include <gtest/gtest.h>

#include <string>

#include "sdnc/io/utf8.h"

namespace sdnc {
namespace {

TEST(Utf8, ValidatesRfc3629) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xc3"));              // truncated
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\x80"));              // lone continuation byte
}

TEST(Utf8, PrintableKeepsTextAndEscapesLineBreaksControlsAndBadBytes) {
  EXPECT_EQ(printable("token_embd.weight"), "token_embd.weight");
  EXPECT_EQ(printable("caf\xc3\xa9 \xe2\x9c\x93"), "caf\xc3\xa9 \xe2\x9c\x93");
  EXPECT_EQ(printable("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(printable(std::string("x\0y\x1b\x7f", 5)), "x\\x00y\\x1b\\x7f");
  EXPECT_EQ(printable("\xff\xc3("), "\\xff\\xc3(");                    // ill-formed bytes
  EXPECT_EQ(printable("\xc2\x85|\xe2\x80\xa8|\xe2\x80\xa9"),            // NEL, U+2028, U+2029
            "\\xc2\\x85|\\xe2\\x80\\xa8|\\xe2\\x80\\xa9");
  EXPECT_EQ(printable("\xc3"), "\\xc3");                               // truncated at the end
  EXPECT_EQ(printable(std::string(300, 'a')), std::string(200, 'a') + "...");
  EXPECT_EQ(printable("abcdef", 3), "abc...");
  EXPECT_EQ(printable("abc", 3), "abc");
}

}  // namespace
}  // namespace sdnc
