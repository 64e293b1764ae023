#include "sdnc/study/report.h"

#include <sstream>

#include "sdnc/io/atomic_file.h"
#include "sdnc/study/results.h"
#include "sdnc/viz/line_plot.h"
#include "sdnc/viz/png_writer.h"

namespace sdnc::study {

using nlohmann::json;

namespace {

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

void write_text(const std::string& path, const std::string& text) {
  write_file_atomically(path, [&](std::ostream& out) { out << text; });
}

viz::Image accuracy_plot(const Grid& grid, const std::string& task, const std::vector<json>& results) {
  std::vector<viz::LineSeries> series;
  for (size_t m = 0; m < grid.machines.size(); ++m) {
    viz::LineSeries s{grid.machines[m], viz::series_color(m), {}, {}};
    std::vector<int64_t> lengths;
    for (const RunSpec& r : grid.runs)
      if (r.task == task) lengths = r.lengths;
    for (int64_t L : lengths) {
      std::vector<double> acc;
      for (const json& j : results)
        if (is_run_of(j, grid.machines[m], task))
          acc.push_back(j.at("accuracy").at(std::to_string(L)).get<double>());
      if (acc.empty()) continue;
      s.x.push_back(static_cast<double>(L));
      s.y.push_back(100 * mean_std(acc).mean);
    }
    series.push_back(std::move(s));
  }
  viz::LinePlotOptions o;
  o.title = task + ": held-out accuracy vs length (mean over seeds)";
  o.x_label = "task length (training length = leftmost)";
  o.y_label = "accuracy %";
  o.y_min = 0, o.y_max = 100;
  return viz::render_line_plot(series, o);
}

viz::Image loss_plot(const std::string& dir, const Grid& grid, const std::string& task,
                     const std::vector<json>& results) {
  std::vector<viz::LineSeries> series;
  for (size_t m = 0; m < grid.machines.size(); ++m) {
    bool first = true;
    for (const json& j : results) {
      if (!is_run_of(j, grid.machines[m], task)) continue;
      RunLog log = read_run_log(dir + "/" + j.at("loss_curve").get<std::string>());
      viz::LineSeries s{first ? grid.machines[m] : "", viz::series_color(m), {}, {}};
      for (const auto& [t, loss] : log.loss_curve) s.x.push_back(t), s.y.push_back(loss);
      series.push_back(std::move(s));
      first = false;
    }
  }
  viz::LinePlotOptions o;
  o.title = task + ": training loss vs wall time (one line per run)";
  o.x_label = "training seconds";
  o.y_label = "loss (nats per sequence)";
  o.log_y = true;
  return viz::render_line_plot(series, o);
}

}  // namespace

void write_report(const std::string& dir, const Grid& grid, const std::vector<json>& results) {
  const std::string table = results_table(grid, results);
  write_text(dir + "/table.md", "# Study results\n\nMean ± sample standard deviation over seeds; accuracy = the task's "
                                "held-out accuracy, named after each task (results.jsonl \"metric\": token_accuracy, "
                                "the answer tokens right, for token tasks; seq_accuracy, every output of a sequence "
                                "right, for the others; else next-token accuracy). CPU s: the run process's CPU "
                                "seconds.\n\n" + table);
  std::ostringstream html;
  html << "<!doctype html><html><head><meta charset=\"utf-8\"><title>sdnc study</title>"
          "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px}</style></head><body>\n"
          "<h1>sdnc study</h1>\n<pre>" << html_escape(table) << "</pre>\n";
  for (const std::string& task : grid.tasks) {
    bool any = false;
    for (const json& j : results) any = any || j.at("task").get<std::string>() == task;
    if (!any) continue;
    viz::write_png(dir + "/accuracy_" + task + ".png", accuracy_plot(grid, task, results));
    viz::write_png(dir + "/loss_" + task + ".png", loss_plot(dir, grid, task, results));
    html << "<h2>" << html_escape(task) << "</h2>\n<img src=\"accuracy_" << task << ".png\"><br>\n<img src=\"loss_"
         << task << ".png\">\n";
  }
  html << "<h2>Runs</h2>\n<table border=\"1\"><tr><th>run</th><th>trace</th><th>loss curve</th></tr>\n";
  for (const json& j : results) {
    const std::string id = j.at("id").get<std::string>();
    html << "<tr><td>" << html_escape(id) << "</td><td><a href=\"" << html_escape(j.at("trace").get<std::string>())
         << "\">trace page</a></td><td><a href=\"" << html_escape(j.at("loss_curve").get<std::string>())
         << "\">metrics.jsonl</a></td></tr>\n";
  }
  html << "</table>\n</body></html>\n";
  write_text(dir + "/index.html", html.str());
}

}  // namespace sdnc::study
