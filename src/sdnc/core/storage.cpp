#include "sdnc/core/storage.h"

#include <cstdlib>
#include <new>

#include "sdnc/core/error.h"

namespace sdnc {

Storage::Storage(size_t bytes, Device device) : bytes_(bytes), device_(device) {
  if (device != Device::CPU) fail("storage", "no {} backend in this build", device_name(device));
  size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded == 0) rounded = 64;
  data_ = std::aligned_alloc(64, rounded);
  if (!data_) fail("storage", "out of memory allocating {} bytes", bytes);
}

Storage::~Storage() { std::free(data_); }

}  // namespace sdnc
