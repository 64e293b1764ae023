// `sdnc study` — trains a grid of machines × tasks × seeds (src/sdnc/study/grid.h; the
// default grid without --grid), evaluates each run at the training length, 2× and 4×, and
// writes runs/study/NAME/: results.jsonl, table.md, accuracy and loss plots, index.html with
// every run's trace page. The same command again resumes an interrupted study. Under mpirun /
// srun the runs are spread over the ranks (--distributed; src/sdnc/study/runner.h).
#include "commands.h"
#include "sdnc/dist/communicator.h"
#include "sdnc/io/config.h"
#include "sdnc/study/grid.h"
#include "sdnc/study/runner.h"

namespace sdnc::cli {

namespace {

struct StudyCli {
  std::string grid_path, name = "default", out, distributed = "auto";
  int64_t jobs = 0, threads = 0;
  bool print_grid = false;
};

int run_study_command(const StudyCli& o) {
  const nlohmann::json source = o.grid_path.empty() ? study::default_grid() : io::read_json_file(o.grid_path);
  if (o.print_grid) {
    fmt::print("{}\n", source.dump(2));
    return 0;
  }
  std::unique_ptr<dist::Communicator> comm = communicator_for(o.distributed);
  try {
    study::Grid grid = study::parse_grid(source, o.grid_path.empty() ? "default grid" : o.grid_path);
    study::StudyOptions options;
    options.dir = o.out.empty() ? "runs/study/" + o.name : o.out;
    options.jobs = o.jobs;
    options.threads_per_run = o.threads;
    options.comm = comm.get();
    return study::run_study(grid, options);
  } catch (const std::exception& e) {
    if (!comm || comm->size() == 1) throw;
    // One rank failed: say which, then end every rank (the others may be waiting for it).
    std::fprintf(stderr, "sdnc: %s (rank %d of %d; stopping the job)\n", e.what(), comm->rank(), comm->size());
    comm->abort(1);
  }
  return 1;  // not reached: abort ends the process
}

}  // namespace

void add_study_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<StudyCli>();
  CLI::App* cmd = app.add_subcommand("study", "Train a grid of machines x tasks x seeds; table, plots and trace pages "
                                              "in runs/study/NAME (resumes when run again)");
  cmd->add_option("--grid", o->grid_path, "grid file (JSON; see docs/results.md, Grid files); default: the built-in default grid")
      ->type_name("FILE");
  cmd->add_option("--name", o->name, "study name: the folder runs/study/NAME (default 'default')")
      ->type_name("TEXT")
      ->check([](const std::string& s) {
        return s.empty() || s.find('/') != std::string::npos || s == "." || s == ".."
                   ? std::string("a folder name without '/'")
                   : std::string();
      });
  cmd->add_option("--out,--out-dir,--out_dir", o->out, "study folder (default runs/study/NAME)")->type_name("DIR");
  cmd->add_option("--jobs", o->jobs, "runs at once (per rank under MPI), each its own process (default 0: one per "
                                     "core this process may use)")
      ->type_name("INT")
      ->check(CLI::Range(int64_t{0}, int64_t{1024}));
  cmd->add_option("--threads", o->threads, "worker threads per run (default 0: cores / jobs, at least 1)")
      ->type_name("INT")
      ->check(CLI::Range(int64_t{0}, int64_t{1024}));
  add_distributed_option(cmd, o->distributed, "the study's runs spread");
  cmd->add_flag("--print-grid,--print_grid", o->print_grid, "print the grid (default or --grid) as JSON and exit");
  cmd->callback([o, &exit_code] { exit_code = run_study_command(*o); });
}

}  // namespace sdnc::cli
