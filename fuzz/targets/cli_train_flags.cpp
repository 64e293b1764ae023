// Fuzz target: the command line of `sdnc train` as far as it concerns the config: the input
// is split at NUL bytes into arguments, parsed by CLI11 with one --KEY option per config key
// (as apps/sdnc/train.cpp registers them), then TrainConfig::set_from_string and resolve.
// Nothing is trained. (The other subcommands' parsers are plain CLI11 options.)
// The CLI11 app is built once and cleared before each input (CLI11 clears an app's results
// when it parses again; building ~55 options per input held the target to ~120 inputs/s).
#include <CLI/CLI.hpp>
#include <map>
#include <memory>
#include <vector>

#include "fuzz_target.h"
#include "sdnc/train/train_config.h"

namespace {

struct TrainFlags {
  CLI::App app{"fuzz"};
  std::map<std::string, std::string> flags;  // --KEY VALUE as given
  bool resume = false;
  TrainFlags() {
    app.add_flag("--resume", resume, "");
    for (const auto& key : sdnc::train::train_config_keys()) {
      std::string name = key.name;
      app.add_option_function<std::string>("--" + name, [this, name](const std::string& v) { flags[name] = v; }, "");
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args{"sdnc"};
  std::string cur;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      args.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(data[i]));
    }
  }
  if (!cur.empty()) args.push_back(cur);
  if (args.size() > 64) return 0;
  static TrainFlags* parser = new TrainFlags;  // built once, never freed (no leak report)
  parser->app.clear();
  parser->flags.clear();
  parser->resume = false;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  try {
    parser->app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::Error&) {
    return 0;  // CLI11's own refusal (main.cpp prints it as "sdnc: [cli] ...")
  }
  try {
    sdnc::train::TrainConfig config;
    for (auto& [key, value] : parser->flags) config.set_from_string(key, value);
    config.resolve();
  } catch (const sdnc::Error& e) {
    sdnc::fuzz::check_message(e);
  }
  return 0;
}
