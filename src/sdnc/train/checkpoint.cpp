#include "sdnc/train/checkpoint.h"

#include <filesystem>

#include "sdnc/core/error.h"
#include "sdnc/io/crc32.h"
#include "sdnc/io/safetensors.h"

namespace sdnc::train {

namespace {
constexpr const char* kFormat = "sdnc-train-1";

// The CRC-32 of the file's data section: the tensors' bytes in name order (the order
// save_safetensors lays them out in).
std::string data_crc32(const std::map<std::string, Tensor>& tensors) {
  uint32_t crc = 0;
  for (auto& [name, t] : tensors) crc = crc32(t.raw_data(), t.nbytes(), crc);
  return fmt::format("{:08x}", crc);
}
}

std::string checkpoint_path(const std::string& dir) { return dir + "/checkpoint.safetensors"; }

void save_checkpoint(const std::string& dir, const Checkpoint& c) {
  std::filesystem::create_directories(dir);
  std::map<std::string, Tensor> tensors;
  for (auto& [name, t] : c.model) tensors["model." + name] = t;
  for (auto& [name, t] : c.optimizer) tensors["optimizer." + name] = t;
  tensors["rng.data"] = Tensor::from_indices({static_cast<int64_t>(c.data_seed), c.step}, {2});
  Tensor windows = Tensor::zeros({kWindowFields}, DType::F64);
  for (int64_t k = 0; k < kWindowFields; ++k) windows.data<double>()[k] = c.windows[static_cast<size_t>(k)];
  tensors["trainer.windows"] = windows;
  save_safetensors(checkpoint_path(dir), tensors,
                   {{"format", kFormat},
                    {"data_crc32", data_crc32(tensors)},
                    {"step", std::to_string(c.step)},
                    {"max_length", std::to_string(c.max_length)},
                    {"train_config", c.train_config.dump()},
                    {"model_config", c.model_config.dump()}});
}

Checkpoint load_checkpoint(const std::string& dir) {
  std::string path = checkpoint_path(dir);
  if (!std::filesystem::exists(path)) fail("checkpoint", "{}: no such file (is {} a training output directory?)", path, dir);
  SafetensorsFile f = load_safetensors(path);
  auto meta = [&](const char* key) -> const std::string& {
    auto it = f.metadata.find(key);
    if (it == f.metadata.end()) fail("checkpoint", "{}: metadata has no '{}' (not an sdnc training checkpoint)", path, key);
    return it->second;
  };
  if (meta("format") != kFormat)
    fail("checkpoint", "{}: format '{}', expected '{}'", path, meta("format"), kFormat);
  auto crc = f.metadata.find("data_crc32");
  if (crc == f.metadata.end()) fail("checkpoint", "{}: metadata has no 'data_crc32' (not an sdnc training checkpoint)", path);
  if (std::string got = data_crc32(f.tensors); got != crc->second)
    fail("checkpoint", "{}: data CRC-32 is {} but the header says {}: the file is corrupt", path, got, crc->second);
  Checkpoint c;
  try {
    c.step = std::stoll(meta("step"));
    c.max_length = std::stoll(meta("max_length"));
    c.train_config = nlohmann::json::parse(meta("train_config"));
    c.model_config = nlohmann::json::parse(meta("model_config"));
  } catch (const std::exception& e) {
    fail("checkpoint", "{}: unreadable metadata ({})", path, e.what());
  }
  if (!f.tensors.contains("trainer.windows")) fail("checkpoint", "{}: no tensor 'trainer.windows'", path);
  if (c.step < 0) fail("checkpoint", "{}: step {} is negative", path, c.step);
  for (auto& [name, t] : f.tensors) {
    if (name.rfind("model.", 0) == 0) c.model[name.substr(6)] = t;
    else if (name.rfind("optimizer.", 0) == 0) c.optimizer[name.substr(10)] = t;
    else if (name == "rng.data") {
      if (t.dtype() != DType::I64 || t.numel() != 2) fail("checkpoint", "{}: rng.data must be I64 [2]", path);
      c.data_seed = static_cast<uint64_t>(t.data<int64_t>()[0]);
    } else if (name == "trainer.windows") {
      if (t.dtype() != DType::F64 || t.numel() != kWindowFields)
        fail("checkpoint", "{}: trainer.windows must be F64 [{}]", path, kWindowFields);
      for (int64_t k = 0; k < kWindowFields; ++k) c.windows[static_cast<size_t>(k)] = t.data<double>()[k];
    } else {
      fail("checkpoint", "{}: unexpected tensor '{}'", path, name);
    }
  }
  return c;
}

}  // namespace sdnc::train
