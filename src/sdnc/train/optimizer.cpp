#include "sdnc/train/optimizer.h"

#include <cstring>

#include "sdnc/core/error.h"

namespace sdnc::train {

const Tensor& find_state(const std::map<std::string, Tensor>& state, const std::string& key, const Tensor& like) {
  auto it = state.find(key);
  if (it == state.end()) fail("optimizer", "state tensor '{}' is missing", key);
  if (it->second.shape() != like.shape() || it->second.dtype() != like.dtype())
    fail("optimizer", "state tensor '{}' is {} {}, expected {} {}", key, dtype_name(it->second.dtype()),
         shape_str(it->second.shape()), dtype_name(like.dtype()), shape_str(like.shape()));
  return it->second;
}

void copy_into(Tensor& dst, const Tensor& src) {
  std::memcpy(dst.raw_data(), src.raw_data(), static_cast<size_t>(dst.numel()) * dtype_size(dst.dtype()));
}

}  // namespace sdnc::train
