#include "sdnc/core/rng.h"

#include <cmath>

#include "sdnc/core/parallel.h"

namespace sdnc {

uint64_t rng_hash(uint64_t seed, uint64_t counter) {
  // Two rounds of the splitmix64 finaliser over a Weyl sequence keyed by the seed.
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + counter * 0xD1B54A32D192ED03ull + 0x2545F4914F6CDD1Dull;
  for (int round = 0; round < 2; ++round) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
  }
  return z;
}

namespace {
inline double to_unit(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

// Fills element i of t with gen(counter_base + i·per_element) through a typed writer.
template <class Fn>
void fill_with(Tensor& t, const char* op, Fn&& value_at) {
  check_cpu(op, t);
  int64_t n = t.numel();
  dispatch_floating(t.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    parallel_for(n, 4096, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) p[i] = static_cast<T>(value_at(i));
    });
  });
}
}  // namespace

uint64_t Generator::next_u64() { return rng_hash(seed_, offset_++); }

double Generator::uniform() { return to_unit(next_u64()); }

int64_t Generator::randint(int64_t lo, int64_t hi) {
  if (hi <= lo) fail("randint", "empty range [{}, {})", lo, hi);
  uint64_t span = static_cast<uint64_t>(hi - lo);
  return lo + static_cast<int64_t>(next_u64() % span);
}

void Generator::fill_uniform(Tensor& t, double lo, double hi) {
  uint64_t base = offset_, s = seed_;
  fill_with(t, "fill_uniform", [&](int64_t i) { return lo + (hi - lo) * to_unit(rng_hash(s, base + i)); });
  offset_ += t.numel();
}

namespace {
// Box-Muller from two counters; u1 is kept away from 0.
inline double normal_at(uint64_t s, uint64_t c) {
  double u1 = (static_cast<double>(rng_hash(s, c) >> 11) + 0.5) * 0x1.0p-53;
  double u2 = to_unit(rng_hash(s, c + 1));
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}
}  // namespace

void Generator::fill_normal(Tensor& t, double mean, double stddev) {
  uint64_t base = offset_, s = seed_;
  fill_with(t, "fill_normal", [&](int64_t i) { return mean + stddev * normal_at(s, base + 2 * i); });
  offset_ += 2 * t.numel();
}

void Generator::fill_truncated_normal(Tensor& t, double mean, double stddev) {
  // Each element owns a block of 64 counters: redraw (in pairs) until |z| <= 2. The
  // probability of exhausting the block is 0.0455^32, so the last draw is clamped.
  uint64_t base = offset_, s = seed_;
  fill_with(t, "fill_truncated_normal", [&](int64_t i) {
    double z = 0;
    for (int k = 0; k < 32; ++k) {
      z = normal_at(s, base + 64 * i + 2 * k);
      if (std::fabs(z) <= 2.0) break;
    }
    return mean + stddev * std::fmax(-2.0, std::fmin(2.0, z));
  });
  offset_ += 64 * t.numel();
}

void Generator::fill_bernoulli(Tensor& t, double p) {
  uint64_t base = offset_, s = seed_;
  fill_with(t, "fill_bernoulli", [&](int64_t i) { return to_unit(rng_hash(s, base + i)) < p ? 1.0 : 0.0; });
  offset_ += t.numel();
}

}  // namespace sdnc
