// `sdnc eval` — evaluates a trained checkpoint on held-out data of its task, at the lengths
// of its config or at --lengths, and prints one JSON object per length.
#include "commands.h"
#include "sdnc/train/trainer.h"

namespace sdnc::cli {

namespace {

struct EvalOptions {
  std::string dir;
  std::vector<int64_t> lengths;
  int64_t batches = 0;
};

int run_eval(const EvalOptions& opt) {
  train::TrainedRun run = loading(opt.dir, [&] { return train::load_trained_run(opt.dir); });
  for (int64_t L : opt.lengths)
    if (L < 1) fail("eval", "--lengths: every length must be >= 1, got {}", L);
  if (run.config.s("task") == "associative_recall")
    for (int64_t L : opt.lengths)
      if (L < 2) fail("eval", "--lengths: associative_recall needs at least 2 items, got {}", L);
  std::vector<int64_t> lengths = opt.lengths.empty() ? run.config.list("eval_lengths") : opt.lengths;
  int64_t batches = opt.batches > 0 ? opt.batches : run.config.i("eval_batches");
  std::vector<train::EvalResult> results;
  try {
    results = train::evaluate(*run.model, *run.task, run.config, lengths, batches);
  } catch (const Error& e) {
    fail("eval", "{}: {}", opt.dir, e.what());
  }
  for (auto& r : results) {
    nlohmann::json j = {{"step", run.step}, {"model", run.config.s("model")}, {"task", run.config.s("task")},
                        {"length", r.length}};
    for (auto& [k, v] : r.metrics) j[k] = v;
    fmt::print("{}\n", j.dump());
  }
  return 0;
}

}  // namespace

void add_eval_command(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<EvalOptions>();
  CLI::App* cmd = app.add_subcommand("eval", "Evaluate a trained checkpoint on held-out data");
  cmd->add_option("--checkpoint", opt->dir, "training output directory (holds checkpoint.safetensors)")->required();
  cmd->add_option("--lengths,--eval-lengths,--eval_lengths", opt->lengths, "task lengths to evaluate at (default: the config's eval_lengths)")
      ->delimiter(',')
      ->check(CLI::Range(int64_t{1}, int64_t{100000}));
  cmd->add_option("--batches,--eval-batches,--eval_batches", opt->batches,
                  "held-out batches per length (default: the config's eval_batches)")
      ->check(CLI::Range(int64_t{1}, int64_t{100000}));
  add_threads_option(cmd);
  cmd->callback([opt, &exit_code] { exit_code = run_eval(*opt); });
}

}  // namespace sdnc::cli
