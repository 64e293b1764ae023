#include "sdnc/train/schedule.h"

#include <algorithm>
#include <cmath>

namespace sdnc::train {

double LrSchedule::at(int64_t step) const {
  if (step < warmup_steps) return lr * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  if (kind == ScheduleKind::Constant) return lr;
  int64_t span = std::max<int64_t>(1, total_steps - warmup_steps);
  double p = std::min(1.0, static_cast<double>(step - warmup_steps) / static_cast<double>(span));
  return lr * (min_lr_ratio + (1.0 - min_lr_ratio) * 0.5 * (1.0 + std::cos(M_PI * p)));
}

}  // namespace sdnc::train
