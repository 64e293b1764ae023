// grad_clip.h — global-norm gradient clipping (tf.clip_by_global_norm, torch's
// clip_grad_norm_): n = √(Σ_p ‖g_p‖²); if n > max_norm every gradient is scaled by
// max_norm / n. Parameters without a gradient are skipped. Returns n (before clipping), so
// the trainer can log it; a non-finite n is returned unchanged and nothing is scaled.
#pragma once
#include <vector>

#include "sdnc/core/tensor.h"

namespace sdnc::train {

double clip_grad_global_norm(const std::vector<Tensor>& params, double max_norm);

}  // namespace sdnc::train
