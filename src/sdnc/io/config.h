// config.h — reading JSON configs with one clear message per problem:
// "[config] <file>: key 'n_embd' must be a positive integer, got -3".
#pragma once
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace sdnc::io {

// The candidate closest to `name` by edit distance, or "" when none is within 3 edits (for
// "did you mean" in errors about unknown keys, flags and subcommands).
std::string nearest_name(const std::string& name, const std::vector<std::string>& candidates);

// Parses a JSON file; "[config] <path>: cannot open" / "...: invalid JSON at byte N".
nlohmann::json read_json_file(const std::string& path);

class ConfigReader {
 public:
  ConfigReader(const nlohmann::json& j, std::string where);
  // Each returns the key's value, or `fallback` when the key is absent (or null where noted).
  // Integers must lie in [0, 2^31 − 1] (positive ones in [1, 2^31 − 1]).
  int64_t positive_int(const std::string& key, int64_t fallback) const;
  // A key that must be present: "[config] <file>: missing key '<key>'" otherwise.
  int64_t required_positive_int(const std::string& key) const;
  int64_t optional_positive_int(const std::string& key, int64_t fallback) const;  // null → fallback
  int64_t non_negative_int(const std::string& key, int64_t fallback) const;
  double positive_number(const std::string& key, double fallback) const;
  double number(const std::string& key, double fallback) const;
  // A clip value: a number >= 0, where 0 and null both mean "off" (returned as 0).
  double clip_value(const std::string& key, double fallback) const;
  bool boolean(const std::string& key, bool fallback) const;
  std::string string(const std::string& key, const std::string& fallback) const;
  bool has(const std::string& key) const {
    read_.insert(key);
    return j_.contains(key) && !j_.at(key).is_null();
  }
  // Every accessor above records its key; after a config's last read, this fails on the first
  // key that was never read and is not in `also_accepted` (keys accepted and ignored):
  // "[config] <file>: unknown key 'norm_frist' (did you mean 'norm_first'?)". A typo then
  // cannot run a silently different model.
  void reject_unknown(const std::vector<std::string>& also_accepted = {}) const;

 private:
  const nlohmann::json& j_;
  std::string where_;
  mutable std::set<std::string> read_;
};

}  // namespace sdnc::io
