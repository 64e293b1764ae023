// commands.h — the subcommands of the `sdnc` tool, one file each.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "sdnc/core/error.h"
#include "sdnc/core/parallel.h"
#include "sdnc/dist/communicator.h"

namespace sdnc::cli {

// The one flag convention (docs/cli.md): kebab-case names; a key's snake_case spelling is
// accepted as an alias ("--max-length,--max_length").
inline std::string kebab(std::string name) {
  for (char& c : name)
    if (c == '_') c = '-';
  return name;
}
inline std::string flag_names(const std::string& snake) {
  std::string k = kebab(snake);
  return k == snake ? "--" + k : "--" + k + ",--" + snake;
}

// Runs f(); out of memory while loading `what` becomes "[memory] <what>: not enough memory ...".
template <class F>
auto loading(const std::string& what, F&& f) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    fail("memory", "{}: not enough memory to load it", what);
  }
}

// Seeds: 0..2^63 − 1 ("-1" is refused, not wrapped to 2^64 − 1).
inline const CLI::Range kSeedRange(int64_t{0}, std::numeric_limits<int64_t>::max());

// --threads N on every subcommand that computes (0: SDNC_NUM_THREADS or all cores).
inline void add_threads_option(CLI::App* cmd) {
  cmd->add_option_function<int>(
         "--threads", [](const int& n) { if (n > 0) set_num_threads(n); },
         "worker threads (default 0: SDNC_NUM_THREADS or all cores)")
      ->check(CLI::Range(0, 1024));
}

// The ranks of --distributed MODE (apps/sdnc/distributed.cpp): null for one process ("none",
// or "auto" when no launcher started several), the MPI job's for "mpi" (or "auto" under
// mpirun / srun). Fails "[distributed] ..." for "none" under a multi-process launcher and for
// a build without MPI.
std::unique_ptr<dist::Communicator> communicator_for(const std::string& mode);
// --distributed CHOICE (auto | none | mpi), with `what` saying what the ranks share.
inline void add_distributed_option(CLI::App* cmd, std::string& mode, const std::string& what) {
  cmd->add_option("--distributed", mode,
                  what + " over the processes of an MPI job (mpirun -np P / srun): mpi; none: one process; "
                         "auto: mpi when a launcher started several  [default auto; one of auto, none, mpi]")
      ->type_name("CHOICE")
      ->check(CLI::IsMember({"auto", "none", "mpi"}));
}

// Each registers its subcommand on app; the callback runs it and returns the exit code.
void add_compare_command(CLI::App& app, int& exit_code);
void add_demo_command(CLI::App& app, int& exit_code);
void add_embed_command(CLI::App& app, int& exit_code);
void add_eval_command(CLI::App& app, int& exit_code);
void add_generate_command(CLI::App& app, int& exit_code);
void add_trace_command(CLI::App& app, int& exit_code);
void add_train_command(CLI::App& app, int& exit_code);
void add_run_command(CLI::App& app, int& exit_code);
void add_study_command(CLI::App& app, int& exit_code);
void add_verify_command(CLI::App& app, int& exit_code);

}  // namespace sdnc::cli
