#include "sdnc/backend/cpu/dropout.h"

#include "sdnc/core/parallel.h"
#include "sdnc/core/rng.h"

namespace sdnc::cpu {

void dropout_forward(const Tensor& x, double keep_prob, double scale, uint64_t seed, uint64_t offset, Tensor& mask,
                     Tensor& y) {
  dispatch_floating(x.dtype(), "dropout", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    T* pm = mask.data<T>();
    T* py = y.data<T>();
    T s = static_cast<T>(scale);
    parallel_for(x.numel(), 4096, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        // Same draw as Generator::fill_bernoulli: 53 random bits as a double in [0, 1).
        double u = static_cast<double>(rng_hash(seed, offset + static_cast<uint64_t>(i)) >> 11) * 0x1.0p-53;
        T m = u < keep_prob ? s : T(0);
        pm[i] = m;
        py[i] = px[i] * m;
      }
    });
  });
}

}  // namespace sdnc::cpu
