// duplicate_string.cpp — Duplicate String (context-sensitive; Delétang et al. 2023): a binary
// string w (A = 2) of length L; the answer is ww (2L symbols). Layout and metric:
// formal_language.h.
#include "sdnc/tasks/formal_language.h"

namespace sdnc::tasks {

namespace {

class DuplicateStringTask : public FormalLanguageTask {
 public:
  DuplicateStringTask() : FormalLanguageTask("duplicate_string", 2) {}
  std::vector<int64_t> solve(const std::vector<int64_t>& x) const override {
    std::vector<int64_t> y = x;
    y.insert(y.end(), x.begin(), x.end());
    return y;
  }
  int64_t answer_steps(int64_t L) const override { return 2 * L; }
};

}  // namespace

std::unique_ptr<Task> make_duplicate_string_task(const TaskConfig&) { return std::make_unique<DuplicateStringTask>(); }

}  // namespace sdnc::tasks
