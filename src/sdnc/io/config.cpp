#include "sdnc/io/config.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sdnc/core/error.h"
#include "sdnc/io/utf8.h"

namespace sdnc::io {

using nlohmann::json;

namespace {
// Sizes from a config are multiplied together (4·n_embd, V·D, ...); bounding each keeps that
// arithmetic far from int64 overflow.
constexpr int64_t kMaxConfigInt = 2147483647;
}  // namespace

std::string nearest_name(const std::string& name, const std::vector<std::string>& candidates) {
  auto distance = [](const std::string& a, const std::string& b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      size_t diag = row[0];
      row[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
        diag = up;
      }
    }
    return row[b.size()];
  };
  std::string best;
  size_t best_d = 4;
  for (const auto& c : candidates)
    if (size_t d = distance(name, c); d < best_d) best = c, best_d = d;
  return best;
}

void ConfigReader::reject_unknown(const std::vector<std::string>& also_accepted) const {
  std::vector<std::string> known(read_.begin(), read_.end());
  known.insert(known.end(), also_accepted.begin(), also_accepted.end());
  for (auto& [key, value] : j_.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string near = nearest_name(key, std::vector<std::string>(read_.begin(), read_.end()));
    fail("config", "{}: unknown key '{}'{}", where_, printable(key), near.empty() ? "" : " (did you mean '" + near + "'?)");
  }
}

json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail("config", "{}: cannot open file", path);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail("config", "{}: is a directory, not a file", path);
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    json j = json::parse(ss.str());
    if (!j.is_object()) fail("config", "{}: expected a JSON object", path);
    return j;
  } catch (const json::parse_error& e) {
    fail("config", "{}: invalid JSON at byte {}", path, e.byte);
  } catch (const json::exception& e) {  // e.g. out_of_range 406: a number like 1e400 overflows a double
    std::string what = e.what();
    if (auto close = what.find("] "); close != std::string::npos) what = what.substr(close + 2);
    fail("config", "{}: invalid JSON: {}", path, what);
  }
}

ConfigReader::ConfigReader(const json& j, std::string where) : j_(j), where_(std::move(where)) {}

int64_t ConfigReader::positive_int(const std::string& key, int64_t fallback) const {
  read_.insert(key);
  if (!j_.contains(key)) return fallback;
  const json& v = j_.at(key);
  if (!v.is_number_integer() || v.get<int64_t>() <= 0 || v.get<int64_t>() > kMaxConfigInt)
    fail("config", "{}: key '{}' must be a positive integer (at most {}), got {}", where_, key, kMaxConfigInt,
         v.dump());
  return v.get<int64_t>();
}

int64_t ConfigReader::optional_positive_int(const std::string& key, int64_t fallback) const {
  read_.insert(key);
  if (!j_.contains(key) || j_.at(key).is_null()) return fallback;
  return positive_int(key, fallback);
}

int64_t ConfigReader::non_negative_int(const std::string& key, int64_t fallback) const {
  read_.insert(key);
  if (!j_.contains(key)) return fallback;
  const json& v = j_.at(key);
  if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > kMaxConfigInt)
    fail("config", "{}: key '{}' must be a non-negative integer (at most {}), got {}", where_, key, kMaxConfigInt,
         v.dump());
  return v.get<int64_t>();
}

double ConfigReader::positive_number(const std::string& key, double fallback) const {
  double v = number(key, fallback);
  if (!(v > 0)) fail("config", "{}: key '{}' must be positive, got {}", where_, key, j_.at(key).dump());
  return v;
}

double ConfigReader::number(const std::string& key, double fallback) const {
  read_.insert(key);
  if (!j_.contains(key)) return fallback;
  const json& v = j_.at(key);
  if (!v.is_number()) fail("config", "{}: key '{}' must be a number, got {}", where_, key, v.dump());
  return v.get<double>();
}

bool ConfigReader::boolean(const std::string& key, bool fallback) const {
  read_.insert(key);
  if (!j_.contains(key)) return fallback;
  const json& v = j_.at(key);
  if (!v.is_boolean()) fail("config", "{}: key '{}' must be true or false, got {}", where_, key, v.dump());
  return v.get<bool>();
}

std::string ConfigReader::string(const std::string& key, const std::string& fallback) const {
  read_.insert(key);
  if (!j_.contains(key)) return fallback;
  const json& v = j_.at(key);
  if (!v.is_string()) fail("config", "{}: key '{}' must be a string, got {}", where_, key, v.dump());
  return v.get<std::string>();
}

double ConfigReader::clip_value(const std::string& key, double fallback) const {
  read_.insert(key);
  if (j_.contains(key) && j_.at(key).is_null()) return 0.0;
  double v = number(key, fallback);
  if (v < 0) fail("config", "{}: key '{}' must be >= 0 (0 or null: off), got {}", where_, key, v);
  return v;
}

int64_t ConfigReader::required_positive_int(const std::string& key) const {
  if (!has(key)) fail("config", "{}: missing key '{}'", where_, key);
  return positive_int(key, 0);
}

}  // namespace sdnc::io
