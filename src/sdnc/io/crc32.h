// crc32.h — CRC-32 (the zlib / PNG / gzip polynomial 0xEDB88320, reflected), so that
// Python's zlib.crc32 computes the same value: the checksum of training checkpoints.
#pragma once
#include <cstddef>
#include <cstdint>

namespace sdnc {

// The CRC-32 of n bytes at p, continuing from crc (0 to start).
uint32_t crc32(const void* p, size_t n, uint32_t crc = 0);

}  // namespace sdnc
