// rng.h — the seeded random number generator for parameters, data and dropout.
//
// Counter-based: the k-th number drawn from a generator is a hash of (seed, k), so a fill
// of n values computes element i from counter offset+i independently. Streams are
// therefore identical across runs and across thread counts, and the whole state is two
// integers (seed, offset) that a checkpoint can store.
#pragma once
#include <cstdint>

#include "sdnc/core/tensor.h"

namespace sdnc {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}

  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void set_state(uint64_t seed, uint64_t offset) { seed_ = seed, offset_ = offset; }

  uint64_t next_u64();                   // one raw 64-bit draw
  double uniform();                      // [0, 1)
  int64_t randint(int64_t lo, int64_t hi);  // [lo, hi)

  // In-place fills of a floating tensor; each consumes a fixed number of counters per element.
  void fill_uniform(Tensor& t, double lo, double hi);
  void fill_normal(Tensor& t, double mean, double stddev);
  // Normal truncated to mean ± 2·stddev (as Sonnet/TF's truncated_normal initialiser).
  void fill_truncated_normal(Tensor& t, double mean, double stddev);
  void fill_bernoulli(Tensor& t, double p);  // 1 with probability p, else 0

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
};

// Stateless hash of (seed, counter) → 64 random bits.
uint64_t rng_hash(uint64_t seed, uint64_t counter);

}  // namespace sdnc
