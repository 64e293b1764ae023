// utf8.h — whether bytes are well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF), and text from a file made safe to quote in a one-line message.
// Text from outside (command lines) is checked before it enters JSON.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace sdnc {

bool is_valid_utf8(std::string_view s);

// `s` as it may appear inside an error message: well-formed UTF-8 characters other than
// control characters stay; \n \r \t and other C0/DEL bytes become \n \r \t \xHH, and so does
// every byte of an ill-formed sequence; text longer than `max_bytes` is cut, with "..." after.
// A name read from a file ("tensor 'a\nb'") so never splits a message over two lines.
std::string printable(std::string_view s, size_t max_bytes = 200);

}  // namespace sdnc
