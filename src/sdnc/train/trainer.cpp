#include "sdnc/train/trainer.h"

#include "sdnc/tasks/scoring.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "sdnc/autograd/grad_mode.h"
#include "sdnc/core/parallel.h"
#include "sdnc/core/rng.h"
#include "sdnc/dist/data_parallel.h"
#include "sdnc/io/atomic_file.h"
#include "sdnc/io/config.h"
#include "sdnc/ops/elementwise.h"
#include "sdnc/train/adamw.h"
#include "sdnc/train/checkpoint.h"
#include "sdnc/train/grad_clip.h"
#include "sdnc/train/model_builder.h"
#include "sdnc/train/rmsprop.h"
#include "sdnc/train/schedule.h"

namespace sdnc::train {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void on_sigint(int) { g_interrupted = true; }

// Catches Ctrl-C while training so the loop can checkpoint and stop.
class SigintScope {
 public:
  SigintScope() {
    g_interrupted = false;
    previous_ = std::signal(SIGINT, on_sigint);
  }
  ~SigintScope() { std::signal(SIGINT, previous_); }

 private:
  void (*previous_)(int);
};

uint64_t data_seed_for(const TrainConfig& c) { return rng_hash(static_cast<uint64_t>(c.i("seed")), 0xda7a); }

std::unique_ptr<Optimizer> make_optimizer(const TrainConfig& c, std::vector<Tensor> params) {
  const std::string& kind = c.s("optimizer");
  if (kind == "adamw")
    return std::make_unique<AdamW>(std::move(params), c.d("lr"), c.d("beta1"), c.d("beta2"), c.d("eps"),
                                   c.d("weight_decay"));
  return std::make_unique<RmsProp>(std::move(params), c.d("lr"),
                                   kind == "rmsprop_tf1" ? RmsPropVariant::TF1 : RmsPropVariant::Torch,
                                   c.d("rms_decay"), c.d("eps"), c.d("momentum"));
}

LrSchedule schedule_for(const TrainConfig& c) {
  LrSchedule s;
  s.lr = c.d("lr");
  s.warmup_steps = c.i("warmup_steps");
  s.total_steps = c.i("steps");
  s.kind = c.s("lr_schedule") == "cosine" ? ScheduleKind::Cosine : ScheduleKind::Constant;
  s.min_lr_ratio = c.d("min_lr_ratio");
  return s;
}

void load_weights(models::Model& model, const std::map<std::string, Tensor>& weights, const std::string& where) {
  try {
    model.module().load_state_dict(weights);
  } catch (const Error& e) {
    fail("checkpoint", "{}: {}", where, e.what());
  }
}

std::string duration_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto s = static_cast<int64_t>(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60) : fmt::format("{}:{:02}", s / 60, s % 60);
}

// Keeps the metrics records of steps ≤ last_step (a resumed run rewrites what came after).
void truncate_metrics(const std::string& path, int64_t last_step) {
  std::ifstream in(path);
  if (!in) return;
  std::string kept, line;
  while (std::getline(in, line)) {
    try {
      if (json::parse(line).value("step", int64_t{0}) <= last_step) kept += line + "\n";
    } catch (const json::exception&) {  // a torn last line from a killed run
    }
  }
  write_file_atomically(path, [&](std::ostream& out) { out << kept; });
}

// SDNC_FAULT_NONFINITE=loss@S or grad@S (the crash-safety tests): step S's loss, or one
// entry of its gradient, is made NaN, as an overflow would (S counts from 1, as the log).
struct NonfiniteFault {
  bool loss = false, grad = false;
  int64_t step = -1;
};
NonfiniteFault nonfinite_fault() {
  NonfiniteFault f;
  const char* env = std::getenv("SDNC_FAULT_NONFINITE");
  if (!env || !*env) return f;
  std::string v(env);
  size_t at = v.find('@');
  if (at == std::string::npos) return f;
  f.loss = v.substr(0, at) == "loss";
  f.grad = v.substr(0, at) == "grad";
  f.step = std::strtoll(v.c_str() + at + 1, nullptr, 10);
  return f;
}

// The first parameter with a non-finite entry, or "".
std::string first_nonfinite(const std::vector<std::pair<std::string, Tensor>>& named) {
  for (const auto& entry : named) {
    const Tensor& p = entry.second;  // not a structured binding: clang 14 cannot capture those
    bool bad = false;
    dispatch_floating(p.dtype(), "train", [&](auto tag) {
      using T = decltype(tag);
      const T* x = p.data<T>();
      for (int64_t i = 0; i < p.numel() && !bad; ++i) bad = !std::isfinite(static_cast<double>(x[i]));
    });
    if (bad) return entry.first;
  }
  return "";
}

}  // namespace

std::string resolve_corpus(const std::string& path) {
  std::error_code ec;
  if (path != kDefaultCorpus || std::filesystem::exists(path, ec)) return path;
  // The default corpus lives in the source tree (scripts/setup.sh writes it); find it from the
  // binary's place (build/<preset>/sdnc or build/<preset>/tests/...) when run from elsewhere.
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  for (auto dir = exe.parent_path(); !ec && !dir.empty() && dir != dir.root_path(); dir = dir.parent_path())
    if (std::filesystem::exists(dir / kDefaultCorpus, ec)) return (dir / kDefaultCorpus).string();
  return path;
}

std::string resolve_babi_dir(const std::string& path) {
  std::error_code ec;
  if (path != kDefaultBabiDir || std::filesystem::is_directory(path, ec)) return path;
  // "../shared/data/babi/en" relative to the repository: look for shared/data/babi/en in every
  // folder above the binary (a worktree sits one level deeper than the main checkout).
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  std::error_code missing;  // a folder that is not there is not an error here
  for (auto dir = exe.parent_path(); !ec && !dir.empty() && dir != dir.root_path(); dir = dir.parent_path())
    if (std::filesystem::is_directory(dir / "shared/data/babi/en", missing)) return (dir / "shared/data/babi/en").string();
  return path;
}

std::unique_ptr<tasks::Task> make_task_for(const TrainConfig& c) {
  tasks::TaskConfig tc;
  tc.name = c.s("task");
  tc.num_bits = c.i("num_bits");
  tc.min_repeats = c.i("min_repeats");
  tc.max_repeats = c.i("max_repeats");
  tc.item_length = c.i("item_length");
  tc.num_symbols = c.i("num_symbols");
  tc.corpus = resolve_corpus(c.s("corpus"));
  tc.vocab_size = c.i("vocab_size");
  tc.num_pairs = c.i("num_pairs");
  tc.modulus = c.i("modulus");
  tc.babi_dir = resolve_babi_dir(c.s("babi_dir"));
  return tasks::make_task(tc);
}

Trainer::Trainer(TrainConfig config, const TrainOptions& options) : options_(options) {
  std::string out_dir = config.is_set("out_dir") ? config.s("out_dir") : "runs/train";
  if (options.resume) {
    Checkpoint ck = load_checkpoint(out_dir);
    std::string where = checkpoint_path(out_dir);
    TrainConfig saved = TrainConfig::from_json(ck.train_config, where);
    for (auto& [key, value] : config.values().items()) {  // what the user set must agree
      if (!saved.values().contains(key) || saved.values().at(key) == value || key_may_change_on_resume(key)) continue;
      fail("config", "key '{}' is {} but the checkpoint in {} was trained with {}; only {} may change on --resume", key,
           value.dump(), out_dir, saved.values().at(key).dump(),
           "steps, max_seconds, eval_*, log_every, checkpoint_every, threads");
    }
    for (auto& [key, value] : config.values().items()) saved.set_value(key, value, "--" + key);
    config_ = saved;
    config_.resolve();
    task_ = make_task_for(config_);
    model_config_ = ck.model_config;
    model_ = models::make_model(model_config_, where);
    load_weights(*model_, ck.model, where);
    optimizer_ = make_optimizer(config_, model_->module().parameters());
    try {
      optimizer_->load_state_tensors(ck.optimizer, param_names());
    } catch (const Error& e) {
      fail("checkpoint", "{}: {}", where, e.what());
    }
    step_ = ck.step;
    max_length_ = ck.max_length;
    data_seed_ = ck.data_seed;
    windows_ = ck.windows;
  } else {
    config.resolve();
    config_ = config;
    if (std::filesystem::exists(checkpoint_path(out_dir)) && !options.overwrite)
      fail("train", "{} already holds a checkpoint: pass --resume to continue it, --overwrite to start over, or "
           "choose another out_dir", out_dir);
    task_ = make_task_for(config_);
    model_config_ = model_config_for(config_, *task_);
    model_ = models::make_model(model_config_, "the model of this training config");
    Generator g(static_cast<uint64_t>(config_.i("seed")));
    model_->init(g);
    optimizer_ = make_optimizer(config_, model_->module().parameters());
    max_length_ = config_.i("max_length");
    data_seed_ = data_seed_for(config_);
  }
  // Evaluation lengths the task cannot draw (a corpus's held-out part too short for the
  // context) fail now, not after training.
  for (int64_t L : config_.list("eval_lengths")) {
    Generator probe(0);
    task_->sample(probe, 1, L, L, true);
  }
  for (int64_t L : {config_.i("min_length"), config_.i("max_length")}) {  // and the training lengths
    Generator probe(0);
    task_->sample(probe, 1, L, L, false);
  }
  if (config_.i("threads") > 0) set_num_threads(static_cast<int>(config_.i("threads")));
  out_dir_ = config_.s("out_dir");
  // dist: every rank starts from the same weights and step; only rank 0 writes or prints.
  if (options_.comm) {
    dist::check_batch_size(config_.i("batch_size"), options_.comm->size());
    dist::check_same_start(*options_.comm, model_->module(), step_, out_dir_);
  }
  if (!writer()) {
    options_.progress = false;
    return;
  }
  // Everything is valid: now touch the output directory.
  std::filesystem::create_directories(out_dir_);
  // Temporaries of a writer that was killed mid-write (SIGKILL, power loss).
  for (const std::string& f : {checkpoint_path(out_dir_), out_dir_ + "/metrics.jsonl", out_dir_ + "/model/config.json",
                               out_dir_ + "/model/model.safetensors"})
    remove_stale_temporaries(f);
  std::string metrics_path = out_dir_ + "/metrics.jsonl";
  if (options.resume) truncate_metrics(metrics_path, step_);
  metrics_ = std::fopen(metrics_path.c_str(), options.resume ? "a" : "w");
  if (!metrics_) fail("train", "{}: cannot open for writing", metrics_path);
}

Trainer::~Trainer() {
  if (metrics_) std::fclose(metrics_);
}

std::vector<std::string> Trainer::param_names() const {
  std::vector<std::string> names;
  for (auto& [name, p] : model_->module().named_parameters()) names.push_back(name);
  return names;
}

void Trainer::save(int64_t step) const {
  if (!writer()) return;  // dist
  // Never replace a good checkpoint with a poisoned one.
  if (std::string bad = first_nonfinite(model_->module().named_parameters()); !bad.empty())
    fail("train", "parameter '{}' is not finite at step {}; not writing a checkpoint (the last one in {} is "
         "intact)", bad, step, out_dir_);
  Checkpoint ck;
  ck.step = step;
  ck.max_length = max_length_;
  ck.data_seed = data_seed_;
  ck.windows = windows_;
  ck.train_config = config_.values();
  ck.model_config = model_config_;
  ck.model = model_->module().state_dict();
  ck.optimizer = optimizer_->state_tensors(param_names());
  save_checkpoint(out_dir_, ck);
  models::save_model(*model_, out_dir_ + "/model");
}

void Trainer::log_line(const json& record) {
  if (!metrics_) return;  // dist: ranks other than 0
  std::string text = record.dump() + "\n";
  std::fputs(text.c_str(), metrics_);
  std::fflush(metrics_);
}

TrainSummary Trainer::train() {
  SigintScope sigint;
  TrainSummary summary;
  summary.first_step = step_;
  const tasks::TaskKind kind = task_->kind();
  const std::vector<Tensor> params = model_->module().parameters();
  const LrSchedule schedule = schedule_for(config_);
  const int64_t total = config_.i("steps"), B = config_.i("batch_size"), log_every = config_.i("log_every");
  const int64_t checkpoint_every = config_.i("checkpoint_every"), eval_every = config_.i("eval_every");
  const double max_seconds = config_.d("max_seconds"), clip = config_.d("grad_clip");
  const int64_t stop_at = config_.i("stop_at_step");
  const bool tty = options_.progress && isatty(STDERR_FILENO);
  auto start = Clock::now(), last_draw = start;
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  const int64_t curriculum_every = config_.i("curriculum_every");
  const bool skip_nonfinite = config_.s("on_nonfinite") == "skip";
  const NonfiniteFault fault = nonfinite_fault();
  // The running sums live in windows_ (saved in every checkpoint): the curriculum's window
  // (its own period, so log_every does not change training), the log window, skipped steps.
  double& curriculum_loss = windows_[0];
  double& curriculum_steps = windows_[1];
  double& window_loss = windows_[2];
  double& window_norm = windows_[3];
  double& window_steps = windows_[4];
  double& skipped = windows_[5];
  double tokens = 0;
  // dist: the replicas' exchanges (null in a single process).
  std::unique_ptr<dist::ReplicaSync> sync;
  if (options_.comm) sync = std::make_unique<dist::ReplicaSync>(*options_.comm, params);
  double bucket_logged = 0, wait_logged = 0;
  bool stop_requested = false;  // on_step returned false
  if (options_.progress)
    fmt::print("[train] {} on {}: {} parameters, steps {}..{}, out {}\n", config_.s("model"), config_.s("task"),
               model_->module().num_parameters(), step_, total, out_dir_);
  for (; step_ < total; ++step_) {
    bool interrupted = g_interrupted, out_of_time = max_seconds > 0 && elapsed() > max_seconds;
    if (sync) interrupted = sync->any(interrupted), out_of_time = sync->any(out_of_time);  // dist: agree
    if (interrupted) {
      summary.interrupted = summary.sigint = true;
      break;
    }
    if (out_of_time) break;
    if (stop_requested || (stop_at > 0 && step_ >= stop_at)) {
      summary.interrupted = true;
      break;
    }
    Generator g(rng_hash(data_seed_, static_cast<uint64_t>(step_)));
    tasks::Batch batch = task_->sample(g, B, config_.i("min_length"), max_length_, false);
    optimizer_->set_lr(schedule.at(step_));
    // dist: this rank's shard of the global batch, its loss weighted by its share of the
    // global normaliser; the summed loss is the single-process one.
    const tasks::Batch shard = sync ? dist::shard_batch(batch, options_.comm->rank(), sync->size()) : batch;
    Tensor logits = model_logits(*model_, shard);
    Tensor loss = tasks::task_loss(kind, logits, shard);
    if (sync) loss = mul_scalar(loss, dist::loss_share(kind, shard, batch));
    double value = sync ? sync->sum(loss.item()) : loss.item();
    const int64_t done = step_ + 1;  // steps are counted from 1, as in the log
    if (fault.loss && fault.step == done) value = std::nan("");
    // A non-finite loss or gradient: stop (nothing is saved; the last checkpoint stays) or,
    // with on_nonfinite "skip", drop this step's update.
    auto nonfinite = [&](const char* what, double v) {
      if (!skip_nonfinite)
        fail("train", "the {} is {} at step {}; stopping (the last checkpoint in {} is intact). Try a lower lr or "
             "grad_clip, or on_nonfinite \"skip\".", what, v, done, out_dir_);
      optimizer_->zero_grad();
      skipped += 1;
      log_line({{"step", done}, {"skipped", what}, {"value", fmt::format("{}", v)}});
      if (options_.progress) fmt::print("{}step {:>6}  skipped: the {} is {}\n", tty ? "\r" : "", done, what, v);
    };
    bool ok = std::isfinite(value);
    if (!ok) nonfinite("loss", value);
    if (ok) {
      if (sync) {  // dist: backward with the exchange overlapped; every rank then holds the global gradient
        dist::kill_rank_if_asked(*options_.comm, done);
        sync->backward_and_sum(loss);
      } else {
        loss.backward();
      }
      if (fault.grad && fault.step == done && !params.empty() && params[0].grad().defined())
        dispatch_floating(params[0].grad().dtype(), "train", [&](auto tag) {
          params[0].grad().template data<decltype(tag)>()[0] = std::nan("");
        });
      double norm = clip_grad_global_norm(params, clip);
      ok = std::isfinite(norm);
      if (!ok) nonfinite("gradient norm", norm);
      if (ok) {
        optimizer_->step();
        optimizer_->zero_grad();
        summary.final_loss = value;
        window_loss += value;
        window_norm += norm;
        window_steps += 1;
        curriculum_loss += value;
        curriculum_steps += 1;
        tokens += static_cast<double>(B * logits.size(1));
        if (options_.on_step && !options_.on_step({done, value, optimizer_->lr(), norm})) stop_requested = true;
      }
    }
    if (tty && std::chrono::duration<double>(Clock::now() - last_draw).count() > 0.1) {
      double rate = static_cast<double>(done - summary.first_step) / elapsed();
      fmt::print(stderr, "\r[train] step {}/{}  loss {:.4f}  {:.0f} (T·B)/s  ETA {}   ", done, total, value,
                 tokens / elapsed(), duration_text(static_cast<double>(total - done) / rate));
      std::fflush(stderr);
      last_draw = Clock::now();
    }
    if ((done % log_every == 0 || done == total) && window_steps > 0) {
      double mean = window_loss / window_steps;
      json rec = {{"step", done},
                  {"loss", mean},
                  {"lr", optimizer_->lr()},
                  {"grad_norm", window_norm / window_steps},
                  {"max_length", max_length_},
                  {"tokens_per_s", tokens / std::max(1e-9, elapsed())},
                  {"elapsed_s", elapsed()}};
      if (sync) {  // dist: the ranks; per step of this window, the gradient exchange and the waits
        rec["ranks"] = sync->size();
        rec["allreduce_ms"] = 1e3 * (sync->bucket_seconds() - bucket_logged) / window_steps;
        rec["wait_ms"] = 1e3 * (sync->wait_seconds() - wait_logged) / window_steps;
        bucket_logged = sync->bucket_seconds(), wait_logged = sync->wait_seconds();
      }
      log_line(rec);
      if (options_.progress)
        fmt::print("{}step {:>6}  loss {:.5f}  lr {:.2e}  |g| {:.3g}  len {}  {:.0f} (T·B)/s\n", tty ? "\r" : "", done,
                   mean, optimizer_->lr(), window_norm / window_steps, max_length_,
                   tokens / std::max(1e-9, elapsed()));
      std::fflush(stdout);
      window_loss = window_norm = window_steps = 0;
    }
    // The curriculum: every curriculum_every steps, the mean loss of those steps' updates.
    if (done % curriculum_every == 0) {
      double threshold = config_.d("curriculum_threshold");
      int64_t cap = config_.i("curriculum_max_length");
      if (curriculum_steps > 0 && threshold > 0 && curriculum_loss / curriculum_steps < threshold &&
          (cap == 0 || max_length_ < cap)) {
        max_length_ = cap > 0 ? std::min(cap, max_length_ + config_.i("curriculum_increment"))
                              : max_length_ + config_.i("curriculum_increment");
        log_line({{"step", done}, {"curriculum_max_length", max_length_}});
      }
      curriculum_loss = curriculum_steps = 0;
    }
    if (checkpoint_every > 0 && done % checkpoint_every == 0) save(done);
    if (eval_every > 0 && done % eval_every == 0 && done != total && writer())
      for (auto& r : evaluate(*model_, *task_, config_, config_.list("eval_lengths"), config_.i("eval_batches")))
        log_line({{"step", done}, {"eval_length", r.length}, {"eval", r.metrics}});
  }
  summary.last_step = step_;
  summary.seconds = elapsed();
  save(step_);
  if (summary.interrupted) {
    if (tty) fmt::print(stderr, "\n");
    if (g_interrupted && writer())
      fmt::print(stderr, "[train] interrupted at step {}: checkpoint written to {}; continue with --resume\n", step_,
                 checkpoint_path(out_dir_));
    else if (options_.progress)
      fmt::print("[train] stopped at step {} (stop_at_step or the step callback); continue with --resume\n", step_);
    return summary;
  }
  if (!writer()) return summary;  // dist: rank 0 evaluates
  summary.evals = evaluate(*model_, *task_, config_, config_.list("eval_lengths"), config_.i("eval_batches"));
  for (auto& r : summary.evals) log_line({{"step", step_}, {"eval_length", r.length}, {"eval", r.metrics}});
  if (options_.progress) {
    if (tty) fmt::print(stderr, "\r\n");
    for (auto& r : summary.evals) fmt::print("[eval] length {}: {}\n", r.length, json(r.metrics).dump());
  }
  return summary;
}

std::vector<EvalResult> evaluate(const models::Model& model, const tasks::Task& task, const TrainConfig& config,
                                 const std::vector<int64_t>& lengths, int64_t batches) {
  NoGradGuard no_grad;
  std::vector<EvalResult> results;
  uint64_t seed = rng_hash(static_cast<uint64_t>(config.i("seed")), 0xe7a1);
  for (int64_t L : lengths) {
    Generator g(rng_hash(seed, static_cast<uint64_t>(L)));
    tasks::Metrics sum;
    tasks::GroupScores scores;  // token tasks: exact counts per group over all batches
    for (int64_t k = 0; k < batches; ++k) {
      tasks::Batch batch = task.sample(g, config.i("batch_size"), L, L, true);
      Tensor logits = model_logits(model, batch);
      double loss = tasks::task_loss(task.kind(), logits, batch).item();
      for (auto& [name, v] : tasks::task_metrics(task.kind(), logits, batch, loss)) sum[name] += v;
      if (!batch.groups.empty()) tasks::add_scores(logits, batch, scores);
    }
    for (auto& [name, v] : sum) v /= static_cast<double>(batches);
    if (!scores.empty())
      for (auto& [name, v] : tasks::group_metrics(scores)) sum[name] = v;
    results.push_back({L, sum});
  }
  return results;
}

TrainedRun load_trained_run(const std::string& dir) {
  Checkpoint ck = load_checkpoint(dir);
  std::string where = checkpoint_path(dir);
  TrainedRun run;
  run.config = TrainConfig::from_json(ck.train_config, where);
  run.config.resolve();
  run.task = make_task_for(run.config);
  run.model = models::make_model(ck.model_config, where);
  // DIR/model/ (what `sdnc run` loads) was written with this checkpoint; a folder whose model/
  // describes another model (files copied between runs) is refused rather than half-used.
  if (std::string exported = dir + "/model/config.json"; std::filesystem::exists(exported)) {
    nlohmann::json saved = io::read_json_file(exported);
    if (saved != run.model->config_json())
      fail("checkpoint", "{}: describes a {} model, but {} holds a {} model with another config ({} vs {})",
           exported, saved.value("model_type", "?"), where, run.model->type(), saved.dump(),
           run.model->config_json().dump());
  }
  load_weights(*run.model, ck.model, where);
  run.step = ck.step;
  return run;
}

}  // namespace sdnc::train
