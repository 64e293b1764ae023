#include "sdnc/models/trace.h"

#include <cstring>

#include "sdnc/core/error.h"

namespace sdnc::models {

void place_read_weights_row(Tensor& full, const Tensor& step_weights, int64_t t) {
  int64_t T = full.size(3), BH = full.size(0) * full.size(1), n = step_weights.size(3);
  if (n > T || t >= T) fail("trace", "read weights of step {} ({} slots) do not fit [.., {}, {}]", t, n, T, T);
  size_t width = dtype_size(full.dtype());
  for (int64_t bh = 0; bh < BH; ++bh)
    std::memcpy(static_cast<char*>(full.raw_data()) + ((bh * T + t) * T) * width,
                static_cast<const char*>(step_weights.raw_data()) + bh * n * width, n * width);
}

}  // namespace sdnc::models
