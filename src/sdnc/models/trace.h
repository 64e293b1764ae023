// trace.h — what a model records when asked to show its reads.
#pragma once
#include <map>
#include <string>

#include "sdnc/core/tensor.h"

namespace sdnc::models {

enum class Form { Parallel, Recurrent };

// name → tensor, e.g. "layers.0.read_weights" [B, H, T, T].
using Trace = std::map<std::string, Tensor>;

}  // namespace sdnc::models
