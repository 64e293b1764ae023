// results.h — what a study records and reports: one results.jsonl line per finished run and
// table.md (mean ± standard deviation over seeds).
//
// A results.jsonl line:
//   {"id", "machine", "task", "seed", "dials" (the machine's dial keys), "params", "steps",
//    "train_seconds" (the training loop, evaluations during it included), "wall_seconds" (the
//    whole run process), "loss_curve" (its metrics.jsonl, relative to the study folder),
//    "trace" (its trace page), "metric" (the accuracy's name), "lengths": [L, 2L, 4L],
//    "accuracy": {"L": a, ...} (held-out, the final evaluation), "seconds_to_99" (the elapsed
//    training seconds at the first evaluation during training with accuracy >= 0.99 at L, or
//    null), "config" (the run's training config), "cpu_seconds" (the run process's user +
//    system CPU time: on a shared machine the wall seconds depend on the other jobs, this
//    much less)}
// The accuracy is the metric that says "solved" per task kind: token_accuracy (the fraction of
// scored answer tokens right: MQAR's and the formal languages' measure) where the task reports
// it, else seq_accuracy (every masked bit of the sequence right; every answer token right for
// seq2seq), else accuracy (next-token argmax). "evals" holds every final metric per length
// (e.g. seq_accuracy beside token_accuracy, bits_per_char for char_lm).
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sdnc/study/grid.h"
#include "sdnc/tasks/objective.h"

namespace sdnc::study {

// The accuracy in a task's metrics: "token_accuracy", else "seq_accuracy", else "accuracy". Throws "[study] ..."
// when neither is there.
std::string accuracy_metric(const tasks::Metrics& metrics);

// From a run's metrics.jsonl lines (trainer.h): the final evaluation per length, and the
// training seconds at the first evaluation whose accuracy at `length` reached `threshold`.
struct RunLog {
  std::map<int64_t, tasks::Metrics> final_evals;  // length → metrics (the last record per length)
  std::optional<double> seconds_to(double threshold, int64_t length) const;
  double train_seconds = 0;  // the last log record's elapsed_s
  int64_t last_step = 0;
  // (step, seconds, accuracy at each length) of every evaluation, in order
  struct Eval {
    int64_t step;
    double seconds;
    int64_t length;
    double accuracy;
  };
  std::vector<Eval> evals;
  std::vector<std::array<double, 2>> loss_curve;  // (elapsed seconds, mean loss) per log record
};
// Throws "[study] <path>:<line>: ..." for a line that is not a JSON object.
RunLog read_run_log(const std::string& metrics_path);

// One results.jsonl line for a finished run.
nlohmann::json result_line(const RunSpec& spec, const RunLog& log, int64_t params, double wall_seconds,
                           const std::string& run_dir_relative);

// The lines of results.jsonl; a last line cut short by a crash is dropped (its run is redone).
std::vector<nlohmann::json> read_results(const std::string& path);
// Appends one line and fsyncs it.
void append_result(const std::string& path, const nlohmann::json& line);

// Whether a results line is a run of this machine on this task.
bool is_run_of(const nlohmann::json& line, const std::string& machine, const std::string& task);

// mean and sample standard deviation (n − 1; 0 for one value).
struct MeanStd {
  double mean = 0, std = 0;
  int64_t n = 0;
};
MeanStd mean_std(const std::vector<double>& values);

// table.md: per task (headed with its accuracy's name), one row per machine in grid order:
// parameters, steps, training seconds, CPU seconds (— for lines without them), accuracy at L, 2L, 4L (mean ± std over seeds, %), seeds that reached 99% at L and
// their mean time. Runs missing from `results` show as "—".
std::string results_table(const Grid& grid, const std::vector<nlohmann::json>& results);

}  // namespace sdnc::study
