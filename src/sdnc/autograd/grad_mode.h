// grad_mode.h — the no-grad scope. Inside a NoGradGuard, ops record nothing.
#pragma once

namespace sdnc {

bool grad_enabled();

class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace sdnc
