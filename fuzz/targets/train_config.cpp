// Fuzz target: a training config file (`sdnc train --config FILE`): io::read_json_file, then
// TrainConfig::from_json and resolve (types, ranges, choices, task defaults, combinations).
#include "fuzz_target.h"
#include "sdnc/io/config.h"
#include "sdnc/train/train_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sdnc::fuzz::ScratchFile file(data, size, ".json");
  try {
    nlohmann::json j = sdnc::io::read_json_file(file.path());
    sdnc::train::TrainConfig config = sdnc::train::TrainConfig::from_json(j, file.path());
    config.resolve();
    for (const auto& key : sdnc::train::train_config_keys()) (void)config.values().at(key.name);
  } catch (const sdnc::Error& e) {
    sdnc::fuzz::check_message(e);
  }
  return 0;
}
