// tool_wait_policy.h — the benchmarks run sdnc as the `sdnc` tool runs (apps/sdnc/main.cpp):
// OpenMP waiters sleep (OMP_WAIT_POLICY=PASSIVE) unless the caller set a policy. libgomp reads
// the policy once, when it loads, so the process restarts itself with it set. The peers keep
// their libraries' own default (the bench scripts leave the variable unset).
#pragma once
#include <unistd.h>

#include <cstdlib>

inline void wait_policy_as_the_tool(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY")) return;
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  execv("/proc/self/exe", argv);  // returns only on failure: then carry on as we are
}
