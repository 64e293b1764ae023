// train_config.h — the settings of one training run: one flat JSON object whose keys are
// listed (with types, ranges and defaults) in train_config.cpp's table and in docs/training.md.
// Every key can also be given as a command-line flag (--key value), which wins over the file.
// Unknown keys, wrong types and out-of-range values are errors that name the key and where it
// came from ("[config] run.json: key 'lr' must be a number > 0, got \"fast\"").
// Keys left unset take the task's defaults (e.g. repeat_copy: num_bits 4, lengths 1..2).
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sdnc::train {

enum class KeyType { Int, Number, String, Bool, IntList };

struct ConfigKey {
  std::string name;
  KeyType type;
  nlohmann::json fallback;  // null: depends on the task (see resolve)
  double lo, hi;            // inclusive range for numbers and list items
  std::vector<std::string> choices;  // for strings; empty = any
  std::string help;
};

const std::vector<ConfigKey>& train_config_keys();

class TrainConfig {
 public:
  // Parses a JSON object; `where` names it in errors.
  static TrainConfig from_json(const nlohmann::json& j, const std::string& where);
  // Sets one key to a JSON value (checked like a file's); `where` names its origin in errors.
  void set_value(const std::string& key, const nlohmann::json& value, const std::string& where);
  // Sets one key from a command-line string value ("--lr" "3e-4"); lists are comma-separated.
  void set_from_string(const std::string& key, const std::string& value);
  // Fills task-dependent defaults and checks the combination (min_length ≤ max_length, the
  // model fits the task, ...). Call once after all keys are set.
  void resolve();

  int64_t i(const std::string& key) const;
  double d(const std::string& key) const;
  const std::string& s(const std::string& key) const;
  bool b(const std::string& key) const;
  std::vector<int64_t> list(const std::string& key) const;
  bool is_set(const std::string& key) const { return values_.contains(key); }

  // Every key with its value (after resolve: nothing is null).
  const nlohmann::json& values() const { return values_; }

 private:
  void set(const ConfigKey& key, const nlohmann::json& value, const std::string& where);
  // The lengths (min, max, eval) a token task can draw, with the key that holds a bad one.
  void check_task_lengths() const;
  nlohmann::json values_ = nlohmann::json::object();
};

// The keys whose values may differ between a checkpoint and its --resume (how long to run,
// how often to log/evaluate/checkpoint, threads).
bool key_may_change_on_resume(const std::string& key);

}  // namespace sdnc::train
