// schedule.h — the learning rate at each step: linear warm-up from 0, then constant or
// cosine decay to min_lr_ratio·lr at the last step.
//   step s (0-based) < warmup:  lr·(s + 1)/warmup
//   constant:                   lr
//   cosine:                     lr·(r + (1 − r)·½(1 + cos(π·p))),  p = (s − warmup)/(total − warmup)
#pragma once
#include <cstdint>
#include <string>

namespace sdnc::train {

enum class ScheduleKind { Constant, Cosine };

struct LrSchedule {
  double lr = 1e-3;
  int64_t warmup_steps = 0, total_steps = 1;
  ScheduleKind kind = ScheduleKind::Constant;
  double min_lr_ratio = 0.0;

  double at(int64_t step) const;
};

}  // namespace sdnc::train
