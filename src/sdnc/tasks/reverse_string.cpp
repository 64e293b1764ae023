// reverse_string.cpp — Reverse String (deterministic context-free; Delétang et al. 2023): a
// binary string (A = 2) of length L; the answer is the string reversed (L symbols). Layout and
// metric: formal_language.h. (Not the encoder-decoder's `reverse`, a seq2seq task.)
#include <algorithm>

#include "sdnc/tasks/formal_language.h"

namespace sdnc::tasks {

namespace {

class ReverseStringTask : public FormalLanguageTask {
 public:
  ReverseStringTask() : FormalLanguageTask("reverse_string", 2) {}
  std::vector<int64_t> solve(const std::vector<int64_t>& x) const override { return {x.rbegin(), x.rend()}; }
  int64_t answer_steps(int64_t L) const override { return L; }
};

}  // namespace

std::unique_ptr<Task> make_reverse_string_task(const TaskConfig&) { return std::make_unique<ReverseStringTask>(); }

}  // namespace sdnc::tasks
