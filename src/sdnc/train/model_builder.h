// model_builder.h — the glue between a training config, its task and the models:
// which model config a run trains, and how a task's batch becomes the model's inputs.
//   dnc, lstm      : bit tasks (inputs [B, T, X]) and token tasks (one-hot tokens [B, T, V])
//   sdnc           : bit tasks → "sdnc" (models/sequence_sdnc.h); char_lm → "gpt2" (a GPT-2
//                    architecture checkpoint, so `sdnc generate` decodes it with its KV cache)
//   encoder_decoder: seq2seq tasks (src [B, S], tgt [B, T]; PAD = 0)
#pragma once
#include <nlohmann/json.hpp>

#include "sdnc/models/model.h"
#include "sdnc/tasks/task.h"
#include "sdnc/train/train_config.h"

namespace sdnc::train {

nlohmann::json model_config_for(const TrainConfig& config, const tasks::Task& task);

// The model's input tensors for a batch (one-hot bytes for models of real vectors on char_lm).
models::TensorMap model_inputs(const models::Model& model, const tasks::Batch& batch);

// logits [B, T, Y] of the model on a batch (the model's only output), parallel form where
// the model has one.
Tensor model_logits(const models::Model& model, const tasks::Batch& batch, models::Trace* trace = nullptr);

}  // namespace sdnc::train
