// parallel.h — splitting loops over the cores. Work is cut into contiguous chunks and every
// output element is computed by exactly one thread in a fixed order, so results do not
// depend on the thread count.
#pragma once
#include <algorithm>
#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace sdnc {

int num_threads();
void set_num_threads(int n);

// Calls f(begin, end) over [0, n) in chunks; runs serially when n < grain.
template <class F>
void parallel_for(int64_t n, int64_t grain, F&& f) {
  if (n <= 0) return;
#ifdef _OPENMP
  int threads = num_threads();
  if (threads > 1 && n >= 2 * grain && !omp_in_parallel()) {
    int64_t chunks = std::min<int64_t>(threads, n / grain);
#pragma omp parallel for num_threads(chunks) schedule(static, 1)
    for (int64_t c = 0; c < chunks; ++c) {
      int64_t b = n * c / chunks, e = n * (c + 1) / chunks;
      f(b, e);
    }
    return;
  }
#endif
  f(int64_t{0}, n);
}

// Calls f(o, i0, i1) for the pieces of the flat range [s, e) of an [outer, inner] grid, so
// that a parallel_for over output positions can still run contiguous inner loops.
template <class F>
void for_segments(int64_t s, int64_t e, int64_t inner, F&& f) {
  while (s < e) {
    int64_t o = s / inner, i0 = s % inner, i1 = std::min(inner, i0 + (e - s));
    f(o, i0, i1);
    s += i1 - i0;
  }
}

}  // namespace sdnc
