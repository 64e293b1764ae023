// `sdnc train` — trains a model on a task from a JSON config (docs/training.md); every config
// key is also a flag (--lr 3e-4), which wins over the file. --resume continues the checkpoint
// in out_dir on the same loss curve; Ctrl-C writes a checkpoint and stops. Under mpirun / srun,
// --distributed mpi (the default when a launcher started several processes) trains data-parallel
// (docs/distributed.md).
#include <limits>
#include <map>

#include "commands.h"
#include "sdnc/dist/communicator.h"
#include "sdnc/io/config.h"
#include "sdnc/train/trainer.h"

namespace sdnc::cli {

namespace {

struct TrainOptionsCli {
  std::string config_path;
  bool resume = false, overwrite = false, quiet = false;
  std::string distributed = "auto";
  std::map<std::string, std::string> flags;  // key → value as typed
};

train::TrainConfig config_from(const TrainOptionsCli& opt) {
  train::TrainConfig config;
  if (!opt.config_path.empty()) config = train::TrainConfig::from_json(io::read_json_file(opt.config_path), opt.config_path);
  for (auto& [key, value] : opt.flags) config.set_from_string(key, value);
  return config;
}

const char* key_type_name(const train::ConfigKey& k) {
  switch (k.type) {
    case train::KeyType::Int: return "INT";
    case train::KeyType::Number: return "NUMBER";
    case train::KeyType::String: return k.choices.empty() ? "TEXT" : "CHOICE";
    case train::KeyType::Bool: return "BOOL";
    case train::KeyType::IntList: return "INT,...";
  }
  return "TEXT";
}

// "<help>  [default 16; 1..65536]" / "[default copy; one of copy, repeat_copy, ...]", from the table.
std::string key_help(const train::ConfigKey& k) {
  std::string text = k.help + "  [default ";
  text += k.fallback.is_null() ? "set by the task/optimizer"
          : k.fallback.is_string() ? k.fallback.get<std::string>()
                                   : k.fallback.dump();
  if (!k.choices.empty()) {
    text += "; one of ";
    for (size_t i = 0; i < k.choices.size(); ++i) text += (i ? ", " : "") + k.choices[i];
  } else if (k.type == train::KeyType::Int || k.type == train::KeyType::Number ||
             k.type == train::KeyType::IntList) {
    text += k.hi == std::numeric_limits<double>::infinity() ? fmt::format("; >= {}", k.lo)
                                                            : fmt::format("; {}..{}", k.lo, k.hi);
  }
  return text + "]";
}

}  // namespace

void add_train_command(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<TrainOptionsCli>();
  CLI::App* cmd = app.add_subcommand("train", "Train a model on a task (copy, repeat_copy, associative_recall, "
                                              "char_lm, reverse, sort, addition, and the token tasks of docs/tasks.md)");
  cmd->add_option("--config", opt->config_path, "training config (JSON); flags below override its keys");
  cmd->add_flag("--resume", opt->resume, "continue the checkpoint in out_dir");
  cmd->add_flag("--overwrite", opt->overwrite, "start afresh even if out_dir holds a checkpoint");
  cmd->add_flag("--quiet", opt->quiet, "no progress or log lines (metrics still go to out_dir/metrics.jsonl)");
  add_distributed_option(cmd, opt->distributed, "data-parallel training");
  for (const auto& key : train::train_config_keys()) {
    std::string name = key.name;
    // The same flag for the same thing in every subcommand (docs/cli.md).
    std::string names = flag_names(name);
    if (name == "out_dir") names += ",--out";
    if (name == "eval_lengths") names += ",--lengths";
    cmd->add_option_function<std::string>(
           names, [opt, name](const std::string& v) { opt->flags[name] = v; }, key_help(key))
        ->type_name(key_type_name(key))
        ->group("Config keys");
  }
  cmd->callback([opt, &exit_code] {
    train::TrainOptions options;
    options.resume = opt->resume;
    options.overwrite = opt->overwrite;
    options.progress = !opt->quiet;
    std::unique_ptr<dist::Communicator> comm = communicator_for(opt->distributed);
    options.comm = comm.get();
    try {
      train::Trainer trainer(config_from(*opt), options);
      train::TrainSummary summary = trainer.train();
      // Ctrl-C: the shell's convention for SIGINT; stop_at_step is a planned stop.
      exit_code = summary.interrupted && summary.last_step != trainer.config().i("stop_at_step") ? 130 : 0;
    } catch (const std::exception& e) {
      if (!comm || comm->size() == 1) throw;
      // One rank failed: say which, then end every rank (the others may be waiting for it).
      std::fprintf(stderr, "sdnc: %s (rank %d of %d; stopping the job)\n", e.what(), comm->rank(), comm->size());
      comm->abort(1);
    }
  });
}

}  // namespace sdnc::cli
