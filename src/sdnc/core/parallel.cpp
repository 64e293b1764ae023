#include "sdnc/core/parallel.h"

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "sdnc/backend/cpu/gemm.h"

namespace sdnc {

namespace {
int initial_threads() {
  if (const char* env = std::getenv("SDNC_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}
int g_threads = initial_threads();
}  // namespace

int num_threads() { return g_threads; }

void set_num_threads(int n) {
  g_threads = std::max(1, n);
  cpu::gemm_set_num_threads(g_threads);
}

}  // namespace sdnc
