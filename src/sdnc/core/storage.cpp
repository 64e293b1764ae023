#include "sdnc/core/storage.h"

#include <cstdlib>
#include <new>

#include "sdnc/core/block_cache.h"
#include "sdnc/core/error.h"

namespace sdnc {

Storage::Storage(size_t bytes, Device device) : bytes_(bytes), device_(device) {
  if (device != Device::CPU) fail("storage", "no {} backend in this build", device_name(device));
  data_ = block_alloc(bytes);
  if (!data_) fail("storage", "out of memory allocating {} bytes", bytes);
}

Storage::Storage(void* data, size_t bytes, Device device, std::function<void()> release)
    : data_(data), bytes_(bytes), device_(device), release_(std::move(release)) {
  if (device != Device::CPU) fail("storage", "no {} backend in this build", device_name(device));
}

Storage::~Storage() {
  if (release_)
    release_();
  else
    block_free(data_, bytes_);
}

}  // namespace sdnc
