// storage.h — a reference-counted, 64-byte aligned buffer. Several tensors may share one
// storage (reshape and detach return views of the same bytes).
#pragma once
#include <cstddef>
#include <functional>
#include <memory>

#include "sdnc/core/device.h"

namespace sdnc {

class Storage {
 public:
  Storage(size_t bytes, Device device);
  // Borrowed bytes (the Python package's zero-copy arrays): nothing is allocated or freed here;
  // `release` runs in the destructor instead. The owner keeps the bytes alive until then; they
  // need not be 64-byte aligned.
  Storage(void* data, size_t bytes, Device device, std::function<void()> release);
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
  std::function<void()> release_;  // set for borrowed bytes
};

}  // namespace sdnc
