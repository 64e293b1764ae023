// unicode.cpp — UTF-8 coding and table look-ups (binary search over the generated tables).
#include "sdnc/tokenizers/unicode.h"

#include <algorithm>

#include "sdnc/core/error.h"

namespace sdnc::unicode {

std::u32string decode_utf8(std::string_view s, const char* where) {
  std::u32string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    int len = 0;
    char32_t c = 0, min = 0;
    if (b0 < 0x80) { out.push_back(b0); ++i; continue; }
    if ((b0 & 0xE0) == 0xC0) { len = 2; c = b0 & 0x1F; min = 0x80; }
    else if ((b0 & 0xF0) == 0xE0) { len = 3; c = b0 & 0x0F; min = 0x800; }
    else if ((b0 & 0xF8) == 0xF0) { len = 4; c = b0 & 0x07; min = 0x10000; }
    else fail(where, "invalid UTF-8 at byte {} (lead byte 0x{:02x})", i, b0);
    if (i + len > s.size()) fail(where, "invalid UTF-8 at byte {} (truncated sequence)", i);
    for (int k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) fail(where, "invalid UTF-8 at byte {} (bad continuation byte)", i + k);
      c = (c << 6) | (b & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
      fail(where, "invalid UTF-8 at byte {} (overlong, surrogate or beyond U+10FFFF)", i);
    out.push_back(c);
    i += len;
  }
  return out;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

std::string encode_utf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) append_utf8(out, c);
  return out;
}

namespace {

bool in_ranges(const tables::CodeRange* r, size_t n, char32_t c) {
  const tables::CodeRange* end = r + n;
  const tables::CodeRange* it = std::upper_bound(
      r, end, c, [](char32_t v, const tables::CodeRange& x) { return v < x.first; });
  return it != r && (it - 1)->last >= c;
}

const tables::CodeMapping* find_mapping(const tables::CodeMapping* m, size_t n, char32_t c) {
  const tables::CodeMapping* end = m + n;
  const tables::CodeMapping* it = std::lower_bound(
      m, end, c, [](const tables::CodeMapping& x, char32_t v) { return x.from < v; });
  return it != end && it->from == c ? it : nullptr;
}

}  // namespace

bool is_letter(char32_t c) { return in_ranges(tables::letter, tables::letter_count, c); }
bool is_number(char32_t c) { return in_ranges(tables::number, tables::number_count, c); }
bool is_punctuation(char32_t c) {
  return in_ranges(tables::punctuation, tables::punctuation_count, c);
}
bool is_other(char32_t c) { return in_ranges(tables::other, tables::other_count, c); }
bool is_nonspacing_mark(char32_t c) {
  return in_ranges(tables::nonspacing_mark, tables::nonspacing_mark_count, c);
}
bool is_unassigned(char32_t c) { return in_ranges(tables::unassigned, tables::unassigned_count, c); }

bool is_white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

void append_lowercase(std::u32string& out, char32_t c) {
  if (c < 0x80) { out.push_back(c >= 'A' && c <= 'Z' ? c + 32 : c); return; }
  const tables::CodeMapping* m = find_mapping(tables::lowercase, tables::lowercase_count, c);
  if (!m) { out.push_back(c); return; }
  out.append(m->to, m->count);
}

void append_decomposition(std::u32string& out, char32_t c) {
  // Hangul syllables: L V (T), Unicode 3.12.
  constexpr char32_t s_base = 0xAC00, l_base = 0x1100, v_base = 0x1161, t_base = 0x11A7;
  constexpr char32_t v_count = 21, t_count = 28, n_count = v_count * t_count, s_count = 11172;
  if (c >= s_base && c < s_base + s_count) {
    const char32_t index = c - s_base;
    out.push_back(l_base + index / n_count);
    out.push_back(v_base + (index % n_count) / t_count);
    if (index % t_count != 0) out.push_back(t_base + index % t_count);
    return;
  }
  if (c < 0xC0) { out.push_back(c); return; }
  const tables::CodeMapping* m = find_mapping(tables::decomposition, tables::decomposition_count, c);
  if (!m) { out.push_back(c); return; }
  out.append(m->to, m->count);
}

}  // namespace sdnc::unicode
