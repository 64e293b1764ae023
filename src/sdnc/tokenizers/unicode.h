// unicode.h — the few Unicode facts the tokenizers need: UTF-8 decoding and encoding, general
// category classes, White_Space, per-character lowercase and canonical decomposition (NFD).
// The tables are generated from Python's unicodedata by scripts/gen_unicode_tables.py
// (unicode_tables.cpp names the Unicode version). Code points are char32_t.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sdnc::unicode {

// Decodes well-formed UTF-8; throws "[<where>] invalid UTF-8 at byte N" otherwise.
std::u32string decode_utf8(std::string_view s, const char* where);
void append_utf8(std::string& out, char32_t c);
std::string encode_utf8(std::u32string_view s);

bool is_letter(char32_t c);            // L*
bool is_number(char32_t c);            // N*
bool is_punctuation(char32_t c);       // P*
bool is_other(char32_t c);             // C* (Cc Cf Cs Co Cn)
bool is_nonspacing_mark(char32_t c);   // Mn
bool is_unassigned(char32_t c);        // Cn
bool is_white_space(char32_t c);       // the White_Space property (what Rust and Oniguruma call \s)

// Appends the character's lowercase (Python's one-character str.lower(): 1 or 2 code points,
// no context such as Greek final sigma).
void append_lowercase(std::u32string& out, char32_t c);
// Appends the character's full canonical decomposition (NFD of the character alone; Hangul
// syllables by the Unicode formula). Canonical reordering of combining marks is not done.
void append_decomposition(std::u32string& out, char32_t c);

namespace tables {
struct CodeRange { char32_t first, last; };
struct CodeMapping { char32_t from; unsigned char count; char32_t to[4]; };
extern const CodeRange letter[], number[], punctuation[], other[], nonspacing_mark[], unassigned[];
extern const size_t letter_count, number_count, punctuation_count, other_count,
    nonspacing_mark_count, unassigned_count;
extern const CodeMapping lowercase[], decomposition[];
extern const size_t lowercase_count, decomposition_count;
}  // namespace tables

}  // namespace sdnc::unicode
