// model_package.cpp — the search path for model packages.
#include "sdnc/io/model_package.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "sdnc/core/error.h"

namespace sdnc::io {

namespace fs = std::filesystem;

namespace {

void add_python_sites(std::vector<std::string>& out, const fs::path& lib, const char* leaf) {
  std::error_code ec;
  if (!fs::is_directory(lib, ec)) return;
  for (const auto& e : fs::directory_iterator(lib, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("python3", 0) == 0 && fs::is_directory(e.path() / leaf, ec))
      out.push_back((e.path() / leaf).string());
  }
}

void add_venvs_above(std::vector<std::string>& out, fs::path dir) {
  std::error_code ec;
  for (int depth = 0; depth < 8 && !dir.empty(); ++depth) {
    add_python_sites(out, dir / ".venv" / "oracle" / "lib", "site-packages");
    if (dir == dir.parent_path()) break;
    dir = dir.parent_path();
  }
}

}  // namespace

std::vector<std::string> model_search_path() {
  std::vector<std::string> out;
  if (const char* p = std::getenv("SDNC_MODEL_PATH")) {
    std::string s = p;
    size_t start = 0;
    while (start <= s.size()) {
      size_t end = s.find(':', start);
      if (end == std::string::npos) end = s.size();
      if (end > start) out.push_back(s.substr(start, end - start));
      start = end + 1;
    }
  }
  std::error_code ec;
  add_venvs_above(out, fs::current_path(ec));
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    exe[n] = 0;
    add_venvs_above(out, fs::path(exe).parent_path());
  }
  if (const char* home = std::getenv("HOME")) add_python_sites(out, fs::path(home) / ".local" / "lib", "site-packages");
  add_python_sites(out, "/usr/local/lib", "dist-packages");
  out.push_back("/usr/lib/python3/dist-packages");
  // Drop repeats, keep the order.
  std::vector<std::string> unique;
  for (const std::string& d : out)
    if (std::find(unique.begin(), unique.end(), d) == unique.end()) unique.push_back(d);
  return unique;
}

std::string find_model(const std::string& name, const char* op) {
  std::error_code ec;
  if (name.empty()) fail(op, "--model is empty (give a path or an installed package name)");
  if (fs::exists(name, ec)) return name;
  std::string module = name;
  for (char& c : module)
    if (c == '-') c = '_';
  const std::vector<std::string> dirs = model_search_path();
  for (const std::string& d : dirs) {
    const fs::path dir(d);
    if (dir.filename() == module && fs::is_directory(dir, ec)) return dir.string();
    if (fs::is_directory(dir / module, ec)) return (dir / module).string();
  }
  std::string searched;
  for (const std::string& d : dirs) searched += (searched.empty() ? "" : ", ") + d;
  fail(op, "no file or installed package '{}' (looked for a folder '{}' in: {}; install it with "
       "scripts/setup_oracle.sh or set SDNC_MODEL_PATH)", name, module, searched);
}

std::string find_gguf(const std::string& path_or_package, const char* op) {
  const std::string path = find_model(path_or_package, op);
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return path;
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator(path, ec))
    if (e.path().extension() == ".gguf") found.push_back(e.path().string());
  if (found.empty()) fail(op, "{}: no .gguf file in this folder", path);
  if (found.size() > 1) {
    std::sort(found.begin(), found.end());
    fail(op, "{}: {} .gguf files in this folder ({}, ...); give the file's path", path, found.size(), found[0]);
  }
  return found[0];
}

std::string find_model_folder(const std::string& path_or_package, const char* op) {
  const std::string path = find_model(path_or_package, op);
  std::error_code ec;
  if (!fs::exists(fs::path(path) / "config.json", ec) && fs::exists(fs::path(path) / "model" / "config.json", ec))
    return (fs::path(path) / "model").string();
  return path;
}

}  // namespace sdnc::io
