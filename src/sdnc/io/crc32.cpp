#include "sdnc/io/crc32.h"

#include <array>

namespace sdnc {

namespace {
constexpr std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kTable = make_table();
}  // namespace

uint32_t crc32(const void* p, size_t n, uint32_t crc) {
  const auto* b = static_cast<const unsigned char*>(p);
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = kTable[(crc ^ b[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

}  // namespace sdnc
