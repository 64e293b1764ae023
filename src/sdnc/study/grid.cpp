#include "sdnc/study/grid.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "sdnc/core/error.h"
#include "sdnc/io/config.h"
#include "sdnc/io/utf8.h"
#include "sdnc/models/model.h"
#include "sdnc/tasks/task.h"
#include "sdnc/train/model_builder.h"
#include "sdnc/train/trainer.h"

namespace sdnc::study {

using nlohmann::json;

namespace {

// Keys the study sets itself: a grid that sets them is refused.
const std::vector<std::string>& study_keys() {
  static const std::vector<std::string> keys = {"task", "seed", "steps", "max_seconds", "stop_at_step",
                                                "out_dir", "eval_lengths", "eval_every"};
  return keys;
}

void refuse_unknown(const json& j, const std::vector<std::string>& known, const std::string& where) {
  for (const auto& [key, value] : j.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    const std::string best = io::nearest_name(key, known);
    fail("study", "{}: unknown key '{}'{}", where, printable(key),
         best.empty() ? "" : " (did you mean '" + best + "'?)");
  }
}

// Copies training-config keys into config, refusing the study's own.
void put_keys(train::TrainConfig& config, const json& keys, const std::string& where) {
  for (const auto& [key, value] : keys.items()) {
    if (std::find(study_keys().begin(), study_keys().end(), key) != study_keys().end())
      fail("study", "{}: key '{}' is set by the study (the grid's tasks, seeds, budget and eval_every)", where, key);
    if (value.is_null()) fail("study", "{}: key '{}' is null (leave it out to get the default)", where, key);
    config.set_value(key, value, where);
  }
}

struct TaskEntry {
  std::string name;
  json keys = json::object();
  json budget;      // the task's own budget (null: the grid's)
  json eval_every;  // the task's own eval_every (null: the grid's)
};

TaskEntry parse_task(const json& t, const std::string& where) {
  TaskEntry e;
  if (t.is_string()) {
    e.name = t.get<std::string>();
  } else if (t.is_object() && t.contains("task") && t.at("task").is_string()) {
    e.name = t.at("task").get<std::string>();
    e.keys = t;
    e.keys.erase("task");
    for (auto [key, own] : {std::pair{"budget", &e.budget}, std::pair{"eval_every", &e.eval_every}})
      if (e.keys.contains(key)) {
        *own = e.keys.at(key);
        e.keys.erase(key);
      }
  } else {
    fail("study", "{}: a task is a name or an object with a \"task\" name, got {}", where, t.dump());
  }
  const auto& names = tasks::task_names();
  if (std::find(names.begin(), names.end(), e.name) == names.end()) {
    const std::string best = io::nearest_name(e.name, names);
    fail("study", "{}: unknown task '{}'{}; tasks: {}", where, printable(e.name),
         best.empty() ? "" : " (did you mean '" + best + "'?)", fmt::join(names, ", "));
  }
  return e;
}

std::vector<int64_t> parse_seeds(const json& s, const std::string& where) {
  std::vector<int64_t> seeds;
  if (s.is_number_integer()) {
    if (s.get<int64_t>() <= 0) fail("study", "{}: key 'seeds' must be >= 1 (a count) or a list, got {}", where, s.dump());
    for (int64_t i = 0; i < s.get<int64_t>(); ++i) seeds.push_back(i);
  } else if (s.is_array()) {
    for (const auto& x : s) {
      if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<double>() > 2147483647.0)
        fail("study", "{}: key 'seeds' must list integers in [0, 2^31 − 1], got {}", where, x.dump());
      if (std::find(seeds.begin(), seeds.end(), x.get<int64_t>()) != seeds.end())
        fail("study", "{}: key 'seeds' lists seed {} twice", where, x.dump());
      seeds.push_back(x.get<int64_t>());
    }
  } else {
    fail("study", "{}: key 'seeds' must be a count or a list of integers, got {}", where, s.dump());
  }
  if (seeds.empty()) fail("study", "{}: key 'seeds' is empty: a study needs at least one seed", where);
  return seeds;
}

// {"steps": n} or {"seconds": s} → the training keys steps / max_seconds.
json parse_budget(const json& b, const std::string& where) {
  if (!b.is_object() || b.size() != 1 || !(b.contains("steps") || b.contains("seconds")))
    fail("study", "{}: key 'budget' must be {{\"steps\": N}} or {{\"seconds\": S}}, got {}", where, b.dump());
  if (b.contains("steps")) {
    const json& n = b.at("steps");
    if (!n.is_number_integer() || n.get<int64_t>() <= 0 || n.get<double>() > 2147483647.0)
      fail("study", "{}: budget 'steps' must be a positive integer, got {}", where, n.dump());
    return {{"steps", n}};
  }
  const json& s = b.at("seconds");
  if (!s.is_number() || !(s.get<double>() > 0) || !std::isfinite(s.get<double>()))
    fail("study", "{}: budget 'seconds' must be a number > 0, got {}", where, s.dump());
  return {{"steps", 2147483647}, {"max_seconds", s}};
}

json parse_eval_every(const json& e, const std::string& where) {
  if (!e.is_number_integer() || e.get<int64_t>() < 0 || e.get<double>() > 2147483647.0)
    fail("study", "{}: key 'eval_every' must be an integer >= 0 (0: evaluate only at the end), got {}", where, e.dump());
  return e;
}

// An error from the trainer's or the machine's checks, naming the grid entry once.
[[noreturn]] void rethrow_naming(const Error& e, const std::string& where) {
  if (std::string(e.what()).find(where) != std::string::npos) throw e;
  fail("study", "{}: {}", where, e.what());
}

}  // namespace

Grid parse_grid(const json& g, const std::string& where) {
  if (!g.is_object()) fail("study", "{}: a grid must be a JSON object, got {}", where, g.type_name());
  refuse_unknown(g, {"machines", "tasks", "seeds", "budget", "eval_every", "settings"}, where);
  Grid grid;
  grid.source = g;
  if (!g.contains("machines") || !g.at("machines").is_array() || g.at("machines").empty())
    fail("study", "{}: key 'machines' must be a non-empty list of machines", where);
  const json tasks_json = g.value("tasks", json::array({"copy", "repeat_copy", "associative_recall"}));
  if (!tasks_json.is_array() || tasks_json.empty()) fail("study", "{}: key 'tasks' must be a non-empty list", where);
  const std::vector<int64_t> seeds = parse_seeds(g.value("seeds", json(1)), where);
  const json budget = parse_budget(g.value("budget", json{{"steps", 1000}}), where);
  const json eval_every = parse_eval_every(g.value("eval_every", json(100)), where);
  const json settings = g.value("settings", json::object());
  if (!settings.is_object()) fail("study", "{}: key 'settings' must be an object of training-config keys", where);

  std::vector<TaskEntry> task_entries;
  for (size_t t = 0; t < tasks_json.size(); ++t) {
    const std::string at = fmt::format("{}: tasks[{}]", where, t);
    task_entries.push_back(parse_task(tasks_json[t], at));
    TaskEntry& e = task_entries[t];
    if (!e.budget.is_null()) e.budget = parse_budget(e.budget, at);
    if (!e.eval_every.is_null()) e.eval_every = parse_eval_every(e.eval_every, at);
    for (size_t u = 0; u < t; ++u)
      if (task_entries[u].name == task_entries[t].name)
        fail("study", "{}: tasks[{}]: task '{}' is listed twice", where, t, task_entries[t].name);
    grid.tasks.push_back(task_entries[t].name);
  }
  grid.seeds = static_cast<int64_t>(seeds.size());

  const json& machines = g.at("machines");
  for (size_t m = 0; m < machines.size(); ++m) {
    const json& entry = machines[m];
    std::string at = fmt::format("{}: machines[{}]", where, m);
    if (!entry.is_object() || !entry.contains("name") || !entry.at("name").is_string() ||
        entry.at("name").get<std::string>().empty())
      fail("study", "{}: a machine is an object with a \"name\" and training-config keys", at);
    const std::string name = entry.at("name").get<std::string>();
    if (name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.") != std::string::npos)
      fail("study", "{}: machine name '{}' may hold only letters, digits, '_' and '.' (it names folders)", at, name);
    if (std::find(grid.machines.begin(), grid.machines.end(), name) != grid.machines.end())
      fail("study", "{}: machine name '{}' is used twice", at, name);
    grid.machines.push_back(name);
    at += fmt::format(" (\"{}\")", name);
    json keys = entry;
    keys.erase("name");
    double slots_per_step = 0;
    if (keys.contains("memory_slots_per_step")) {
      const json& f = keys.at("memory_slots_per_step");
      if (!f.is_number() || !(f.get<double>() > 0) || f.get<double>() > 1)
        fail("study", "{}: key 'memory_slots_per_step' must be a number in (0, 1], got {}", at, f.dump());
      slots_per_step = f.get<double>();
      keys.erase("memory_slots_per_step");
    }
    for (const TaskEntry& task : task_entries) {
      const std::string where_run = at + fmt::format(" on task '{}'", task.name);
      train::TrainConfig c;
      put_keys(c, settings, where + ": settings");
      put_keys(c, keys, at);
      put_keys(c, task.keys, where + ": task '" + task.name + "'");
      c.set_value("task", task.name, where_run);
      for (const auto& [k, v] : (task.budget.is_null() ? budget : task.budget).items()) c.set_value(k, v, where_run);
      c.set_value("eval_every", task.eval_every.is_null() ? eval_every : task.eval_every, where_run);
      train::TrainConfig probe = c;  // the training length, after the task's defaults
      probe.set_value("seed", 0, where_run);
      try {
        probe.resolve();
      } catch (const Error& e) {
        rethrow_naming(e, where_run);
      }
      const int64_t L = probe.i("max_length");
      std::vector<int64_t> lengths = {L, 2 * L, 4 * L};
      c.set_value("eval_lengths", lengths, where_run);
      std::unique_ptr<tasks::Task> task_made;
      try {
        task_made = train::make_task_for(probe);
        if (slots_per_step > 0) {
          auto N = static_cast<int64_t>(std::ceil(slots_per_step * static_cast<double>(task_made->max_steps(L))));
          c.set_value("memory_slots", N, where_run);
        }
        train::TrainConfig resolved = c;
        resolved.set_value("seed", 0, where_run);
        resolved.resolve();
        models::make_model(train::model_config_for(resolved, *task_made), where_run);  // the dials are checked here
      } catch (const Error& e) {
        rethrow_naming(e, where_run);
      }
      for (int64_t seed : seeds) {  // ordered seed-major below
        RunSpec r;
        r.machine = name, r.task = task.name, r.seed = seed, r.lengths = lengths;
        r.id = fmt::format("{}-{}-s{}", name, task.name, seed);
        train::TrainConfig rc = c;
        rc.set_value("seed", seed, where_run);
        rc.resolve();
        r.config = rc.values();
        grid.runs.push_back(std::move(r));
      }
    }
  }
  // Seed-major order: every machine and task gets its first seed before any gets a second,
  // so a study cut short still covers the whole grid.
  std::stable_sort(grid.runs.begin(), grid.runs.end(),
                   [&](const RunSpec& a, const RunSpec& b) {
                     auto rank = [&](int64_t s) { return std::find(seeds.begin(), seeds.end(), s) - seeds.begin(); };
                     return rank(a.seed) < rank(b.seed);
                   });
  return grid;
}

json default_grid() {
  // The corners with the sizes of `sdnc compare`; every hybrid turns dials of one corner.
  const json transformer = {{"model", "machine"}, {"controller", "stateless"}, {"write", "append"},
                            {"similarity", "dot"}, {"read_modes", "content"},   {"key_value", "separate"},
                            {"d_model", 64},       {"layers", 2},               {"read_heads", 4},
                            {"word_size", 16},     {"d_ffn", 256},              {"lr", 1e-3}};
  const json dnc = {{"model", "machine"}, {"controller", "lstm"}, {"write", "allocate"}, {"similarity", "cosine"},
                    {"read_modes", "links"}, {"key_value", "shared"}, {"memory_slots", 16}, {"hidden_size", 64},
                    {"read_heads", 4},       {"word_size", 16},       {"lr", 3e-3}};
  auto with = [](json base, const std::string& name, const json& dials) {
    base["name"] = name;
    for (const auto& [k, v] : dials.items()) base[k] = v;
    return base;
  };
  json machines = json::array({
      with(transformer, "transformer", json::object()),
      with(dnc, "dnc", json::object()),
      with(dnc, "lstm_append",
           {{"write", "append"}, {"similarity", "dot"}, {"read_modes", "content"}, {"key_value", "separate"},
            {"memory_slots", 0}}),
      with(transformer, "stateless_links", {{"read_modes", "links"}}),
      with(transformer, "bounded_transformer", {{"memory_slots_per_step", 0.5}}),
      with(transformer, "cosine_transformer", {{"similarity", "cosine"}}),
      with(dnc, "dnc_separate_kv", {{"key_value", "separate"}}),
  });
  return {{"machines", machines},
          {"tasks", json::array({json{{"task", "copy"}, {"max_length", 5}},
                                 json{{"task", "repeat_copy"}, {"max_length", 3}},
                                 json{{"task", "associative_recall"}, {"max_length", 4}},
                                 // the token tasks: their own budget, sized by measured CPU
                                 // seconds per step (docs/results.md, "Sizing")
                                 json{{"task", "mqar"}, {"max_length", 64}, {"num_pairs", 4}, {"vocab_size", 256},
                                      {"budget", {{"steps", 1000}}}, {"eval_every", 250}},
                                 json{{"task", "parity"}, {"max_length", 40}, {"budget", {{"steps", 1000}}},
                                      {"eval_every", 250}},
                                 json{{"task", "reverse_string"}, {"max_length", 40}, {"budget", {{"steps", 1000}}},
                                      {"eval_every", 250}}})},
          {"seeds", 2},
          {"budget", {{"steps", 1500}}},
          {"eval_every", 100},
          {"settings", {{"batch_size", 16}, {"eval_batches", 8}, {"log_every", 25}}}};
}

}  // namespace sdnc::study
