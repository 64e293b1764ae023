// storage.h — a reference-counted, 64-byte aligned buffer. Several tensors may share one
// storage (reshape and detach return views of the same bytes).
#pragma once
#include <cstddef>
#include <memory>

#include "sdnc/core/device.h"

namespace sdnc {

class Storage {
 public:
  Storage(size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_;
};

}  // namespace sdnc
