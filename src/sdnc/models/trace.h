// trace.h — what a model records when asked to show its reads.
#pragma once
#include <map>
#include <string>

#include "sdnc/core/tensor.h"

namespace sdnc::models {

enum class Form { Parallel, Recurrent };

// name → tensor, e.g. "layers.0.read_weights" [B, H, T, T].
using Trace = std::map<std::string, Tensor>;

// Recurrent form: copies one step's read weights step_weights [B, H, 1, n] into row t of
// full [B, H, T, T] (columns n.. stay zero: slots not yet written).
void place_read_weights_row(Tensor& full, const Tensor& step_weights, int64_t t);

}  // namespace sdnc::models
