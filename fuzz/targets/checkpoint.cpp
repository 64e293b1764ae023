// Fuzz target: a training checkpoint directory's checkpoint.safetensors (train/checkpoint.h):
// the container, the CRC-32, the metadata (step, JSON train and model configs), the tensor
// names; then the train config inside it (TrainConfig::from_json + resolve).
#include <filesystem>

#include "fuzz_target.h"
#include "sdnc/train/checkpoint.h"
#include "sdnc/train/train_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    std::string d = std::string(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + "/sdnc_fuzz_ck_" +
                    std::to_string(getpid());
    std::filesystem::create_directories(d);
    return d;
  }();
  {
    std::FILE* f = std::fopen(sdnc::train::checkpoint_path(dir).c_str(), "wb");
    if (!f || (size > 0 && std::fwrite(data, 1, size, f) != size)) std::abort();
    std::fclose(f);
  }
  try {
    sdnc::train::Checkpoint c = sdnc::train::load_checkpoint(dir);
    sdnc::train::TrainConfig config = sdnc::train::TrainConfig::from_json(c.train_config, "fuzz");
    config.resolve();
  } catch (const sdnc::Error& e) {
    sdnc::fuzz::check_message(e);
  }
  return 0;
}
