#include "sdnc/core/parallel.h"

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "sdnc/backend/cpu/gemm.h"

namespace sdnc {

namespace {
int initial_threads() {
  int n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (const char* env = std::getenv("SDNC_NUM_THREADS"))
    if (std::atoi(env) > 0) n = std::atoi(env);
  cpu::gemm_set_num_threads(n);  // the GEMM libraries follow the same count
  return n;
}
int g_threads = initial_threads();
}  // namespace

int num_threads() { return g_threads; }

void set_num_threads(int n) {
  g_threads = std::max(1, n);
  cpu::gemm_set_num_threads(g_threads);
}

}  // namespace sdnc
