// utf8.h — whether bytes are well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF). Text from outside (command lines) is checked before it enters JSON.
#pragma once
#include <string_view>

namespace sdnc {

bool is_valid_utf8(std::string_view s);

}  // namespace sdnc
