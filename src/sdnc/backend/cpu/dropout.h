// backend/cpu/dropout.h — CPU kernels of ops/dropout.
#pragma once
#include <cstdint>

#include "sdnc/core/tensor.h"

namespace sdnc::cpu {

// mask[i] = scale if unit(rng_hash(seed, offset + i)) < keep_prob else 0; y = x · mask.
void dropout_forward(const Tensor& x, double keep_prob, double scale, uint64_t seed, uint64_t offset, Tensor& mask,
                     Tensor& y);

}  // namespace sdnc::cpu
