// grad_mode.h — the no-grad scope. Inside a NoGradGuard, ops record nothing.
#pragma once

namespace sdnc {

bool grad_enabled();

// The opposite: records in its scope even inside a NoGradGuard (a backward that reruns a
// forward to recompute what it did not keep, e.g. DncModel's checkpointed segments).
class EnableGradGuard {
 public:
  EnableGradGuard();
  ~EnableGradGuard();
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool previous_;
};

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
