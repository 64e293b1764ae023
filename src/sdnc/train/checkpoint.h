// checkpoint.h — a training run's checkpoint: everything needed to continue the same loss
// curve, in one safetensors file written atomically (temporary file + rename):
//   DIR/checkpoint.safetensors
//     model.{name}              every parameter (the model's own names)
//     optimizer.{name}.{slot}   optimizer state (AdamW exp_avg/exp_avg_sq/step; RMSProp
//                               square_avg/momentum)
//     rng.data                  I64 [2]: the data stream's seed and the next step (batches are
//                               drawn from a generator keyed by (seed, step))
//     trainer.windows           F64 [6]: the running sums the trainer carries between steps
//                               (Checkpoint::windows), so a resumed run logs and grows its
//                               curriculum exactly as an uninterrupted one
//     __metadata__: format "sdnc-train-1", data_crc32 (CRC-32 of the data section, hex: checked
//                   on load, so a torn or corrupted file is refused), step, max_length (the
//                   curriculum's), train_config, model_config (JSON)
//   DIR/model/config.json + model.safetensors — the weights alone, for `sdnc run`.
#pragma once
#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "sdnc/core/tensor.h"

namespace sdnc::train {

// Checkpoint::windows: curriculum window loss sum and steps, log window loss sum, gradient-norm
// sum and steps, skipped (non-finite) steps so far.
inline constexpr int64_t kWindowFields = 6;

struct Checkpoint {
  int64_t step = 0, max_length = 0;
  uint64_t data_seed = 0;
  std::array<double, kWindowFields> windows{};
  nlohmann::json train_config, model_config;
  std::map<std::string, Tensor> model, optimizer;  // names without their prefix
};

std::string checkpoint_path(const std::string& dir);
void save_checkpoint(const std::string& dir, const Checkpoint& c);
// Throws "[checkpoint] DIR/checkpoint.safetensors: ..." for a missing, corrupt (CRC-32 mismatch,
// truncated) or foreign file.
Checkpoint load_checkpoint(const std::string& dir);

}  // namespace sdnc::train
