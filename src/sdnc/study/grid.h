// grid.h — what a study trains: machines × tasks × seeds under one budget per run.
//
// A grid file (`sdnc study --grid FILE.json`), every key but "machines" optional:
//   {
//     "machines": [ {"name": "dnc", "model": "machine", "controller": "lstm", ...}, ... ],
//     "tasks":    [ "copy", {"task": "repeat_copy", "max_length": 3}, ... ],
//     "seeds":    [0, 1, 2]        (or a count: 3 → seeds 0, 1, 2),
//     "budget":   {"steps": 1000}  or {"seconds": 60}   (per run; steps are reproducible),
//     "eval_every": 100,           (steps between held-out evaluations: the time to 99%)
//     "settings": { ... }          (training-config keys given to every run)
//   }
// A machine is a name plus any training-config keys (docs/training.md): the dials by the
// machine config's keys (controller, write, similarity, read_modes, key_value, memory_slots,
// ...), its sizes and its optimizer settings. "memory_slots_per_step": f sets memory_slots to
// N = ⌈f·T⌉, T the task's most steps at its training length (f = 0.5: the bounded Transformer
// at N = T/2). A task is a name from tasks::task_names() or an object with "task" and the
// task's keys (max_length, num_bits, ...) and optionally its own "budget" and "eval_every"
// (as the grid's, which they replace for that task's runs). Each run is evaluated on held-out data at the
// training length L, 2L and 4L.
//
// Every mistake (an unknown dial, task or key, a wrong value, zero seeds, a budget <= 0, two
// machines of one name) fails in parse_grid, before anything is trained or written, with one
// message naming the entry: "[study] grid.json: machines[2] (\"dnc\"): unknown key 'contoller'".
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sdnc/train/train_config.h"

namespace sdnc::study {

// One training run of the grid.
struct RunSpec {
  std::string id;       // "<machine>-<task>-s<seed>": its folder under runs/
  std::string machine;  // the machine's name
  std::string task;
  int64_t seed = 0;
  std::vector<int64_t> lengths;  // L, 2L, 4L
  nlohmann::json config;         // the run's training config (resolved: every key set)
};

struct Grid {
  nlohmann::json source;       // the grid as given (written to the study folder)
  std::vector<RunSpec> runs;   // machines × tasks × seeds, seed-major (every pair's first seed first)
  std::vector<std::string> machines, tasks;  // names, in grid order
  int64_t seeds = 0;
};

// Checks and expands a grid; `where` names it in messages (the file path).
Grid parse_grid(const nlohmann::json& grid, const std::string& where);

// The default study (docs/results.md): the two corners and five hybrids (LSTM + append;
// stateless + links over append; Transformer bounded at N = T/2 with learned eviction; cosine
// Transformer; DNC with separate key/value) on copy, repeat_copy and associative_recall (1500
// steps each), MQAR at (64, 4) with V = 256, parity and reverse_string (trained on lengths
// <= 40; 1000 steps each).
nlohmann::json default_grid();

}  // namespace sdnc::study
