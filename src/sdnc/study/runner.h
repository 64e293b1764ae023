// runner.h — runs a study's grid: each run is a child process `sdnc train --config
// DIR/configs/ID.json` writing DIR/runs/ID/, `jobs` of them at once, each with threads_per_run
// worker threads. A finished run gets its trace page (DIR/runs/ID/trace/) and one line in
// DIR/results.jsonl, and the pages (report.h) are rewritten; progress prints runs done / total
// and an ETA.
//
// Resuming: the same command again keeps every run with a results.jsonl line and never
// retrains it; a run without one (killed mid-way) is deleted and redone from step 0, so no
// result mixes two processes. A study folder that holds another grid is refused.
// Ctrl-C (SIGINT) or SIGTERM stops the running children (each writes its checkpoint) and
// returns 130; their runs are redone on the next start.
//
// Over the P ranks of an MPI job (`mpirun -np P sdnc study`, options.comm): every rank reads
// the finished runs, rank 0 alone prepares the folder (grid.json, configs, half-finished runs
// removed), then rank r runs pending runs r, r + P, r + 2P, ... (its own child processes,
// `jobs` at once) and appends each finished run's line to results.jsonl (one write of one
// line, O_APPEND). When every rank is done, rank 0 alone writes the pages from results.jsonl.
// Each rank prints its own progress ("[study rank r/P]"); resuming works as for one process,
// with any P. The children are plain one-process `sdnc train`s (the launcher's variables are
// taken out of their environment).
#pragma once
#include <cstdint>
#include <string>

#include "sdnc/study/grid.h"

namespace sdnc::dist {
class Communicator;
}

namespace sdnc::study {

struct StudyOptions {
  std::string dir;              // the study folder (runs/study/NAME)
  int64_t jobs = 0;             // runs at once per rank (0: one per core this rank may use)
  int64_t threads_per_run = 0;  // 0: cores / jobs, at least 1
  std::string sdnc_binary;      // the sdnc executable to run (empty: this process's own)
  dist::Communicator* comm = nullptr;  // the ranks to spread the runs over (null: this process alone)
};

// Returns 0 when every run finished (on every rank), 1 when some run failed (its log is
// named), 130 when interrupted.
int run_study(const Grid& grid, const StudyOptions& options);

}  // namespace sdnc::study
