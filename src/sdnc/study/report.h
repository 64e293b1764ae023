// report.h — a study folder's pages, rewritten from results.jsonl after every finished run:
//   table.md                  results_table (mean ± std over seeds)
//   accuracy_<task>.png       accuracy (mean over seeds) vs evaluation length, a line per machine
//   loss_<task>.png           training loss vs wall-clock training seconds, a line per run
//                             (colour per machine), log scale
//   index.html                the table, the plots and a link to every run's trace page
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sdnc/study/grid.h"

namespace sdnc::study {

// dir: the study folder (results' loss_curve / trace paths are relative to it).
void write_report(const std::string& dir, const Grid& grid, const std::vector<nlohmann::json>& results);

}  // namespace sdnc::study
