// device.h — where a tensor's storage lives. Only CPU has kernels today; CUDA is a
// named seam: ops called on a CUDA tensor fail with "[op] no CUDA backend in this build".
#pragma once
#include <cstdint>

namespace sdnc {

enum class Device : uint8_t { CPU, CUDA };

inline const char* device_name(Device d) { return d == Device::CPU ? "cpu" : "cuda"; }

}  // namespace sdnc
