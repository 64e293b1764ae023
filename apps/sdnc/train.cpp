// `sdnc train` — trains a model on a task from a JSON config (docs/training.md); every config
// key is also a flag (--lr 3e-4), which wins over the file. --resume continues the checkpoint
// in out_dir on the same loss curve; Ctrl-C writes a checkpoint and stops.
#include <map>

#include "commands.h"
#include "sdnc/io/config.h"
#include "sdnc/train/trainer.h"

namespace sdnc::cli {

namespace {

struct TrainOptionsCli {
  std::string config_path;
  bool resume = false, overwrite = false, quiet = false;
  std::map<std::string, std::string> flags;  // key → value as typed
};

train::TrainConfig config_from(const TrainOptionsCli& opt) {
  train::TrainConfig config;
  if (!opt.config_path.empty()) config = train::TrainConfig::from_json(io::read_json_file(opt.config_path), opt.config_path);
  for (auto& [key, value] : opt.flags) config.set_from_string(key, value);
  return config;
}

}  // namespace

void add_train_command(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<TrainOptionsCli>();
  CLI::App* cmd = app.add_subcommand("train", "Train a model on a task (copy, repeat_copy, associative_recall, "
                                              "char_lm, reverse, sort, addition)");
  cmd->add_option("--config", opt->config_path, "training config (JSON); flags below override its keys");
  cmd->add_flag("--resume", opt->resume, "continue the checkpoint in out_dir");
  cmd->add_flag("--overwrite", opt->overwrite, "start afresh even if out_dir holds a checkpoint");
  cmd->add_flag("--quiet", opt->quiet, "no progress or log lines (metrics still go to out_dir/metrics.jsonl)");
  for (const auto& key : train::train_config_keys()) {
    std::string name = key.name;
    cmd->add_option_function<std::string>(
           "--" + name, [opt, name](const std::string& v) { opt->flags[name] = v; }, key.help)
        ->group("Config keys");
  }
  cmd->callback([opt, &exit_code] {
    train::TrainOptions options;
    options.resume = opt->resume;
    options.overwrite = opt->overwrite;
    options.progress = !opt->quiet;
    train::Trainer trainer(config_from(*opt), options);
    train::TrainSummary summary = trainer.train();
    // Ctrl-C: the shell's convention for SIGINT; stop_at_step is a planned stop.
    exit_code = summary.interrupted && summary.last_step != trainer.config().i("stop_at_step") ? 130 : 0;
  });
}

}  // namespace sdnc::cli
