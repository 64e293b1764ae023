#include "sdnc/study/results.h"

#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <fstream>

#include "sdnc/core/error.h"

namespace sdnc::study {

using nlohmann::json;

std::string accuracy_metric(const tasks::Metrics& m) {
  if (m.contains("token_accuracy")) return "token_accuracy";
  if (m.contains("seq_accuracy")) return "seq_accuracy";
  if (m.contains("accuracy")) return "accuracy";
  fail("study", "the task's metrics hold neither seq_accuracy nor accuracy");
}

std::optional<double> RunLog::seconds_to(double threshold, int64_t length) const {
  for (const Eval& e : evals)
    if (e.length == length && e.accuracy >= threshold) return e.seconds;
  return std::nullopt;
}

RunLog read_run_log(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("study", "{}: cannot open the run's metrics", path);
  RunLog log;
  std::string text;
  double seconds = 0;  // elapsed_s of the latest log record (evaluations follow their step's record)
  for (int64_t line = 1; std::getline(in, text); ++line) {
    json j = json::parse(text, nullptr, false);
    if (!j.is_object()) fail("study", "{}:{}: not a JSON object", path, line);
    if (j.contains("elapsed_s") && j.contains("loss")) {
      seconds = j.at("elapsed_s").get<double>();
      log.train_seconds = seconds;
      log.loss_curve.push_back({seconds, j.at("loss").get<double>()});
    }
    if (j.contains("step")) log.last_step = std::max(log.last_step, j.at("step").get<int64_t>());
    if (j.contains("eval_length") && j.contains("eval")) {
      const tasks::Metrics m = j.at("eval").get<tasks::Metrics>();
      const int64_t L = j.at("eval_length").get<int64_t>();
      log.final_evals[L] = m;
      log.evals.push_back({j.at("step").get<int64_t>(), seconds, L, m.at(accuracy_metric(m))});
    }
  }
  return log;
}

json result_line(const RunSpec& spec, const RunLog& log, int64_t params, double wall_seconds,
                 const std::string& dir) {
  json dials = json::object();
  for (const char* k : {"model", "controller", "write", "similarity", "read_modes", "key_value", "memory_slots",
                        "positions"})
    if (spec.config.contains(k)) dials[k] = spec.config.at(k);
  json accuracy = json::object(), evals = json::object();
  std::string metric;
  for (int64_t L : spec.lengths) {
    auto it = log.final_evals.find(L);
    if (it == log.final_evals.end()) fail("study", "run {}: no evaluation at length {} in its metrics", spec.id, L);
    metric = accuracy_metric(it->second);
    accuracy[std::to_string(L)] = it->second.at(metric);
    evals[std::to_string(L)] = it->second;
  }
  std::optional<double> t99 = log.seconds_to(0.99, spec.lengths.at(0));
  return {{"id", spec.id},
          {"machine", spec.machine},
          {"task", spec.task},
          {"seed", spec.seed},
          {"dials", dials},
          {"params", params},
          {"steps", log.last_step},
          {"train_seconds", log.train_seconds},
          {"wall_seconds", wall_seconds},
          {"loss_curve", dir + "/metrics.jsonl"},
          {"trace", dir + "/trace/index.html"},
          {"metric", metric},
          {"lengths", spec.lengths},
          {"accuracy", accuracy},
          {"evals", evals},
          {"seconds_to_99", t99 ? json(*t99) : json(nullptr)},
          {"config", spec.config}};
}

std::vector<json> read_results(const std::string& path) {
  std::vector<json> lines;
  std::ifstream in(path);
  if (!in) return lines;
  std::string text;
  for (int64_t line = 1; std::getline(in, text); ++line) {
    json j = json::parse(text, nullptr, false);
    bool last = in.peek() == std::char_traits<char>::eof();
    if (!j.is_object() || !j.contains("id")) {
      if (last) break;  // a line cut short by a crash: that run is redone
      fail("study", "{}:{}: not a result line (a JSON object with an \"id\")", path, line);
    }
    lines.push_back(std::move(j));
  }
  return lines;
}

void append_result(const std::string& path, const json& line) {
  const std::string text = line.dump() + "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) fail("study", "{}: cannot open for appending", path);
  ssize_t n = ::write(fd, text.data(), text.size());
  bool ok = n == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) fail("study", "{}: cannot append a result line (disk full?)", path);
}

bool is_run_of(const json& j, const std::string& machine, const std::string& task) {
  return j.at("machine").get<std::string>() == machine && j.at("task").get<std::string>() == task;
}

MeanStd mean_std(const std::vector<double>& v) {
  MeanStd r;
  r.n = static_cast<int64_t>(v.size());
  if (v.empty()) return r;
  for (double x : v) r.mean += x;
  r.mean /= static_cast<double>(v.size());
  if (v.size() > 1) {
    double ss = 0;
    for (double x : v) ss += (x - r.mean) * (x - r.mean);
    r.std = std::sqrt(ss / static_cast<double>(v.size() - 1));
  }
  return r;
}

namespace {

std::string percent(const MeanStd& m) {
  if (m.n == 0) return "—";
  if (m.n == 1) return fmt::format("{:.1f}", 100 * m.mean);
  return fmt::format("{:.1f} ± {:.1f}", 100 * m.mean, 100 * m.std);
}

}  // namespace

std::string results_table(const Grid& grid, const std::vector<json>& results) {
  std::string md;
  for (const std::string& task : grid.tasks) {
    std::vector<int64_t> lengths;
    for (const RunSpec& r : grid.runs)
      if (r.task == task) lengths = r.lengths;
    std::string metric = "accuracy";
    for (const json& j : results)
      if (j.at("task") == task) metric = j.value("metric", metric);
    md += fmt::format("### {} ({})\n\n| machine | parameters | steps | train s | CPU s | acc. % @{} | acc. % @{} | "
                      "acc. % @{} | reached 99% @{} | s to 99% |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
                      task, metric, lengths[0], lengths[1], lengths[2], lengths[0]);
    for (const std::string& machine : grid.machines) {
      std::vector<double> steps, seconds, cpu, t99;
      std::vector<std::vector<double>> acc(lengths.size());
      int64_t params = 0, runs = 0;
      for (const json& j : results) {
        if (!is_run_of(j, machine, task)) continue;
        ++runs;
        params = j.at("params").get<int64_t>();
        steps.push_back(j.at("steps").get<double>());
        seconds.push_back(j.at("train_seconds").get<double>());
        if (j.contains("cpu_seconds")) cpu.push_back(j.at("cpu_seconds").get<double>());
        for (size_t i = 0; i < lengths.size(); ++i)
          acc[i].push_back(j.at("accuracy").at(std::to_string(lengths[i])).get<double>());
        if (!j.at("seconds_to_99").is_null()) t99.push_back(j.at("seconds_to_99").get<double>());
      }
      if (runs == 0) {
        md += fmt::format("| {} | — | — | — | — | — | — | — | — | — |\n", machine);
        continue;
      }
      md += fmt::format("| {} | {} | {:.0f} | {:.0f} | {} | {} | {} | {} | {}/{} | {} |\n", machine, params,
                        mean_std(steps).mean, mean_std(seconds).mean,
                        cpu.empty() ? "—" : fmt::format("{:.0f}", mean_std(cpu).mean), percent(mean_std(acc[0])),
                        percent(mean_std(acc[1])), percent(mean_std(acc[2])), t99.size(), runs,
                        t99.empty() ? "—" : fmt::format("{:.0f}", mean_std(t99).mean));
    }
    md += "\n";
  }
  return md;
}

}  // namespace sdnc::study
