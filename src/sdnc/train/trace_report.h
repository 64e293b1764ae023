// trace_report.h — what `sdnc trace` (and the main job) draws: a trained model run on one
// held-out example of its task, as PNG heatmaps and one HTML page (DIR/index.html):
//   every model : the input, the target (with its mask) and the output, over time
//   sdnc / gpt2 : read weights per head, per layer ([T, T]: read step × memory slot)
//   encoder_decoder: encoder, decoder self and cross read weights per head, per layer
//   dnc         : read weights per read head and write weights per write head over time
//                 ([T, N]), usage over time, the link matrix per write head after the last
//                 step, and the memory after the last step
#pragma once
#include <string>

#include "sdnc/models/model.h"
#include "sdnc/tasks/task.h"
#include "sdnc/train/train_config.h"

namespace sdnc::train {

// length: the task length of the example; seed picks it from the held-out stream. Returns
// the path of the page. Throws "[trace] ..." if the directory cannot be written.
std::string write_trace_report(const models::Model& model, const tasks::Task& task, const TrainConfig& config,
                               int64_t length, const std::string& dir, const std::string& title, uint64_t seed = 0);

}  // namespace sdnc::train
