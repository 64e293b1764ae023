// `sdnc compare` — the main job: trains a small sDNC (a causal Transformer: write-once
// memory, stateless controller), a small DNC (LSTM controller, erasable memory with
// allocation and temporal links) and the hybrid between them that docs/results.md singles
// out (kHybridKeys) on the same task for the same wall-clock budget, evaluates each on
// held-out sequences at the training length and at twice it, prints a table, writes a trace
// page for each (`sdnc trace`) and two pictures: accuracy vs length and loss vs wall time.
#include <filesystem>

#include "commands.h"
#include "sdnc/study/results.h"
#include "sdnc/train/trace_report.h"
#include "sdnc/train/trainer.h"
#include "sdnc/viz/line_plot.h"
#include "sdnc/viz/png_writer.h"

namespace sdnc::cli {

namespace {

struct CompareOptions {
  double seconds = 45;
  std::string task = "copy", out = "runs/compare";
  int64_t length = 5, seed = 0, threads = 0;
};

struct Entry {
  std::string label, dir;  // dir: the run's folder under --out
  train::TrainConfig config;
  train::TrainSummary summary;
  int64_t params = 0;
};

// The hybrid: the DNC's LSTM controller over the Transformer's memory (an append-once KV cache
// read by dot-product content heads), with the DNC's sizes and optimizer. In the default study
// (docs/results.md) it is one of the two hybrids that beat both corners (associative recall
// at 2× and 4× the training length), and the one cheap enough for this budget.
const std::vector<std::pair<const char*, const char*>> kHybridKeys = {
    {"controller", "lstm"}, {"write", "append"}, {"similarity", "dot"}, {"read_modes", "content"},
    {"key_value", "separate"}, {"hidden_size", "64"}, {"read_heads", "4"}, {"word_size", "16"},
    {"lr", "3e-3"}, {"batch_size", "16"}, {"eval_batches", "16"}};
const char* kHybridLabel = "Hybrid: LSTM + KV cache";

train::TrainConfig base_config(const CompareOptions& o, const std::string& model, const std::string& dir) {
  train::TrainConfig c;
  auto set = [&](const char* k, const std::string& v) { c.set_from_string(k, v); };
  set("model", model);
  set("task", o.task);
  set("seed", std::to_string(o.seed));
  set("max_seconds", fmt::format("{}", o.seconds));
  set("steps", "1000000");
  set("min_length", "1");
  set("max_length", std::to_string(o.length));
  set("eval_lengths", fmt::format("{},{}", o.length, 2 * o.length));
  set("log_every", "50");
  set("threads", std::to_string(o.threads));
  set("out_dir", o.out + "/" + dir);
  if (model == "dnc") {  // DeepMind's sizes (hidden 64, N 16, W 16, R 4) with a faster optimizer
    set("lr", "3e-3");
    set("batch_size", "16");
    set("eval_batches", "16");  // 16 × 16 = 256 held-out sequences per length
  } else if (model == "machine") {
    for (const auto& [k, v] : kHybridKeys) set(k, v);
  } else {
    set("d_model", "64");
    set("num_layers", "2");
    set("num_heads", "4");
    set("d_ffn", "256");
    set("lr", "1e-3");
    set("batch_size", "32");
    set("eval_batches", "8");  // 8 × 32 = 256
  }
  return c;
}

// accuracy.png: sequence accuracy at L and 2L per model; loss.png: training loss vs seconds.
void write_pictures(const CompareOptions& o, const std::vector<Entry>& entries) {
  std::vector<viz::LineSeries> acc, loss;
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    viz::LineSeries a{e.label, viz::series_color(i), {}, {}}, l{e.label, viz::series_color(i), {}, {}};
    for (const auto& r : e.summary.evals)
      a.x.push_back(static_cast<double>(r.length)), a.y.push_back(100 * r.metrics.at("seq_accuracy"));
    for (const auto& [t, v] : study::read_run_log(o.out + "/" + e.dir + "/metrics.jsonl").loss_curve)
      l.x.push_back(t), l.y.push_back(v);
    acc.push_back(std::move(a)), loss.push_back(std::move(l));
  }
  viz::LinePlotOptions ao;
  ao.title = o.task + ": held-out sequence accuracy";
  ao.x_label = "task length (training: up to the left end)";
  ao.y_label = "accuracy %";
  ao.y_min = 0, ao.y_max = 100;
  viz::write_png(o.out + "/accuracy.png", viz::render_line_plot(acc, ao));
  viz::LinePlotOptions lo;
  lo.title = o.task + ": training loss vs wall time";
  lo.x_label = "training seconds";
  lo.y_label = "loss (nats per sequence)";
  lo.log_y = true;
  viz::write_png(o.out + "/loss.png", viz::render_line_plot(loss, lo));
}

int run_compare(const CompareOptions& o) {
  if (!(o.seconds > 0)) fail("compare", "--seconds must be > 0, got {}", o.seconds);
  if (o.task != "copy" && o.task != "repeat_copy" && o.task != "associative_recall")
    fail("compare", "--task must be a bit task (copy, repeat_copy, associative_recall), got '{}'", o.task);
  std::vector<Entry> entries = {{"sDNC (Transformer)", "sdnc", base_config(o, "sdnc", "sdnc"), {}, 0},
                                {"DNC (LSTM + memory)", "dnc", base_config(o, "dnc", "dnc"), {}, 0},
                                {kHybridLabel, "hybrid", base_config(o, "machine", "hybrid"), {}, 0}};
  fmt::print("sdnc compare: {} on {} (lengths 1..{}), {:.0f} s each; evaluation at lengths {} and {}\n\n",
             "sDNC vs DNC vs hybrid", o.task, o.length, o.seconds, o.length, 2 * o.length);
  std::filesystem::create_directories(o.out);
  for (auto& e : entries) {
    fmt::print("== {}\n", e.label);
    train::TrainOptions opt;
    opt.overwrite = true;
    train::Trainer trainer(e.config, opt);
    e.params = trainer.model().module().num_parameters();
    e.summary = trainer.train();
    if (e.summary.interrupted) return 130;
    train::write_trace_report(trainer.model(), trainer.task(), trainer.config(), 2 * o.length,
                              o.out + "/" + e.dir + "/trace", e.label);
    fmt::print("\n");
  }
  const int64_t L = o.length;
  fmt::print("| model | parameters | steps | seconds | bit errors @{} | seq. accuracy @{} | bit errors @{} | seq. "
             "accuracy @{} |\n",
             L, L, 2 * L, 2 * L);
  fmt::print("|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (auto& e : entries) {
    const auto& a = e.summary.evals.at(0).metrics;
    const auto& b = e.summary.evals.at(1).metrics;
    fmt::print("| {} | {} | {} | {:.0f} | {:.2f} | {:.1f}% | {:.2f} | {:.1f}% |\n", e.label, e.params,
               e.summary.last_step, e.summary.seconds, a.at("bit_errors"), 100 * a.at("seq_accuracy"),
               b.at("bit_errors"), 100 * b.at("seq_accuracy"));
  }
  fmt::print("\nbit errors: wrong bits per sequence on held-out data ({} sequences per length); seq. accuracy: "
             "sequences with none.\n",
             256);
  write_pictures(o, entries);
  fmt::print("trace pages: {0}/sdnc/trace/index.html, {0}/dnc/trace/index.html, {0}/hybrid/trace/index.html\n"
             "pictures: {0}/accuracy.png (accuracy vs length), {0}/loss.png (loss vs wall time)\n",
             o.out);
  return 0;
}

}  // namespace

void add_compare_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<CompareOptions>();
  CLI::App* cmd = app.add_subcommand("compare", "Main job: train an sDNC, a DNC and a hybrid on the same task, "
                                                "compare them at the training length and twice it, write trace pages "
                                                "and pictures");
  cmd->add_option("--seconds,--max-seconds,--max_seconds", o->seconds, "training time per model (default 45)")
      ->check(CLI::Range(1e-3, 1e7));
  cmd->add_option("--task", o->task, "copy (default), repeat_copy or associative_recall")
      ->check(CLI::IsMember({"copy", "repeat_copy", "associative_recall"}));
  cmd->add_option("--max-length,--max_length,--length", o->length,
                  "longest training length (default 5); evaluation at it and twice it")
      ->check(CLI::Range(int64_t{1}, int64_t{10000}));
  cmd->add_option("--seed", o->seed, "seed (default 0)")->check(CLI::Range(int64_t{0}, int64_t{2147483647}));
  cmd->add_option("--threads", o->threads, "worker threads (default 0: all cores)")
      ->check(CLI::Range(int64_t{0}, int64_t{1024}));
  cmd->add_option("--out,--out-dir,--out_dir", o->out, "output folder (default runs/compare)");
  cmd->callback([o, &exit_code] { exit_code = run_compare(*o); });
}

}  // namespace sdnc::cli
