// `sdnc trace` — runs a trained checkpoint on one held-out example of its task and writes PNG
// heatmaps of its reads and writes (read weights per head over time, write weights, usage and
// links for DNCs) and one HTML page that shows them with the input, target and output.
#include "commands.h"
#include "sdnc/train/trace_report.h"
#include "sdnc/train/trainer.h"

namespace sdnc::cli {

namespace {

struct TraceOptions {
  std::string dir, out;
  int64_t length = 0;
  uint64_t seed = 0;
};

int run_trace(const TraceOptions& o) {
  train::TrainedRun run = loading(o.dir, [&] { return train::load_trained_run(o.dir); });
  int64_t length = o.length > 0 ? o.length : run.config.i("max_length");
  if (o.length < 0) fail("trace", "--length must be >= 1, got {}", o.length);
  if (run.config.s("task") == "associative_recall" && length < 2)
    fail("trace", "--length: associative_recall needs at least 2 items, got {}", length);
  std::string out = o.out.empty() ? o.dir + "/trace" : o.out;
  std::string page;
  try {
    page = train::write_trace_report(*run.model, *run.task, run.config, length, out, o.dir, o.seed);
  } catch (const Error& e) {
    fail("trace", "{}: {}", o.dir, e.what());
  }
  fmt::print("{}\n", page);
  return 0;
}

}  // namespace

void add_trace_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<TraceOptions>();
  CLI::App* cmd = app.add_subcommand("trace", "Draw a trained model's reads and writes on one example (PNG + HTML)");
  cmd->add_option("--checkpoint", o->dir, "training output directory")->required();
  cmd->add_option("--out", o->out, "output folder (default: CHECKPOINT/trace)");
  cmd->add_option("--length", o->length, "task length of the example (default: the training max_length)")
      ->check(CLI::Range(int64_t{1}, int64_t{100000}));
  cmd->add_option("--seed", o->seed, "which held-out example (default 0)")->check(kSeedRange);
  add_threads_option(cmd);
  cmd->callback([o, &exit_code] { exit_code = run_trace(*o); });
}

}  // namespace sdnc::cli
