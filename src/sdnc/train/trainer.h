// trainer.h — one training run: builds the task, the model and the optimizer from a
// TrainConfig, trains with the configured schedule, clipping and curriculum, logs metrics
// (JSON Lines: DIR/metrics.jsonl) and a progress line, evaluates on held-out data at the
// configured lengths, and checkpoints (checkpoint.h) every K steps, at the end and on Ctrl-C.
//
// Determinism: the weights come from Generator(seed); the batch of step s from a generator
// keyed by (data seed, s); so a run resumed from a checkpoint draws the same batches and, with
// the optimizer state and the running sums (curriculum and log windows) restored, continues
// the same loss curve bit for bit, whatever log_every, eval_every and the thread count are.
//
// Data-parallel (TrainOptions::comm, dist/data_parallel.h): P ranks each train on their shard
// of the same global batch and sum gradients, so P ranks take the steps of one process up to
// reduction order; rank 0 alone writes the output folder and prints; every rank reads the same
// checkpoint on --resume (any P may resume any checkpoint).
//
// Numerical faults: a non-finite loss or gradient norm stops training with a message naming
// the step (or, with on_nonfinite "skip", drops that step's update and logs it); a checkpoint
// is never written while a parameter is non-finite.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sdnc/dist/communicator.h"
#include "sdnc/models/model.h"
#include "sdnc/tasks/objective.h"
#include "sdnc/train/checkpoint.h"
#include "sdnc/train/optimizer.h"
#include "sdnc/train/train_config.h"

namespace sdnc::train {

struct EvalResult {
  int64_t length;
  tasks::Metrics metrics;  // means over the evaluation batches
};

struct TrainSummary {
  int64_t first_step = 0, last_step = 0;  // steps [first, last) ran in this call
  bool interrupted = false;               // Ctrl-C, stop_at_step or on_step (a checkpoint was written)
  bool sigint = false;                    // the interruption was Ctrl-C
  double seconds = 0.0, final_loss = 0.0;
  std::vector<EvalResult> evals;          // at the end
};

// What on_step sees after each optimizer step.
struct StepReport {
  int64_t step = 0;  // counted from 1, as in the log
  double loss = 0.0, lr = 0.0, grad_norm = 0.0;
};
struct TrainOptions {
  bool resume = false;     // continue out_dir's checkpoint
  bool overwrite = false;  // start afresh even if out_dir holds a checkpoint
  bool progress = true;    // the progress line (only on a terminal) and the log lines
  dist::Communicator* comm = nullptr;  // dist: data-parallel over these ranks (null: one process)
  // Called after each step that updated the weights (the Python package's callback); returning
  // false stops training there like stop_at_step (a checkpoint is written).
  std::function<bool(const StepReport&)> on_step;
};

class Trainer {
 public:
  // Validates everything (config, task, corpus, checkpoint) before writing anything.
  Trainer(TrainConfig config, const TrainOptions& options);
  ~Trainer();
  TrainSummary train();

  const TrainConfig& config() const { return config_; }
  const tasks::Task& task() const { return *task_; }
  models::Model& model() { return *model_; }
  int64_t step() const { return step_; }

 private:
  void save(int64_t step) const;
  bool writer() const { return !options_.comm || options_.comm->rank() == 0; }  // dist: rank 0 writes
  void log_line(const nlohmann::json& record);
  std::vector<std::string> param_names() const;

  TrainConfig config_;
  TrainOptions options_;
  std::unique_ptr<tasks::Task> task_;
  std::unique_ptr<models::Model> model_;
  std::unique_ptr<Optimizer> optimizer_;
  nlohmann::json model_config_;
  int64_t step_ = 0, max_length_ = 0;
  uint64_t data_seed_ = 0;
  std::array<double, kWindowFields> windows_{};  // the running sums a checkpoint carries
  std::string out_dir_;
  std::FILE* metrics_ = nullptr;
};

// Held-out evaluation of a model at each task length (exactly that length), from a fixed
// held-out stream per length (the same examples at every evaluation).
std::vector<EvalResult> evaluate(const models::Model& model, const tasks::Task& task, const TrainConfig& config,
                                 const std::vector<int64_t>& lengths, int64_t batches);

// A trained model read back from a training output directory (for eval, generate, trace).
struct TrainedRun {
  TrainConfig config;
  std::unique_ptr<tasks::Task> task;
  std::unique_ptr<models::Model> model;
  int64_t step = 0;
};
TrainedRun load_trained_run(const std::string& dir);

// The default char_lm corpus (written by scripts/setup.sh), relative to the source tree.
inline constexpr const char* kDefaultCorpus = "data/kjv.txt";
// path itself, or for the default corpus when it is not under the working directory, the copy
// in the source tree above the running binary.
std::string resolve_corpus(const std::string& path);

// The default bAbI folder: ../shared/data/babi/en relative to the repository.
inline constexpr const char* kDefaultBabiDir = "../shared/data/babi/en";
// path itself, or for the default, the first shared/data/babi/en found in a folder above the
// running binary (left as is when there is none: the task then fails naming 'babi_dir').
std::string resolve_babi_dir(const std::string& path);

// The task a config describes.
std::unique_ptr<tasks::Task> make_task_for(const TrainConfig& config);

}  // namespace sdnc::train
