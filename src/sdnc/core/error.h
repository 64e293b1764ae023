// error.h — the one exception type of sdnc. Every message starts with the name of the
// operation that refused its input, in brackets: "[matmul] inner sizes differ: 3 vs 4".
#pragma once
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <stdexcept>
#include <string>

namespace sdnc {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws Error("[op] <formatted message>").
template <class... Args>
[[noreturn]] void fail(const char* op, fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format("[{}] ", op) + fmt::format(format, std::forward<Args>(args)...));
}

// Checks a condition; on failure throws Error("[op] <message>").
#define SDNC_CHECK(cond, op, ...)              \
  do {                                         \
    if (!(cond)) ::sdnc::fail(op, __VA_ARGS__); \
  } while (0)

}  // namespace sdnc
