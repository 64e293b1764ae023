#include "sdnc/dist/communicator.h"

#include <cstdio>
#include <cstdlib>

namespace sdnc::dist {

void SingleProcess::abort(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  std::exit(code);
}

int launcher_world_size() {
  for (const char* key : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_NTASKS"})
    if (const char* v = std::getenv(key); v && *v) {
      long n = std::strtol(v, nullptr, 10);
      if (n > 0) return static_cast<int>(n);
    }
  return 1;
}

}  // namespace sdnc::dist
