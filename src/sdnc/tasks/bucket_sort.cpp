// bucket_sort.cpp — Bucket Sort (context-sensitive; Delétang et al. 2023): a string of length L
// over A = 5 symbols; the answer is the string sorted ascending (L symbols). Layout and metric:
// formal_language.h.
#include <algorithm>

#include "sdnc/tasks/formal_language.h"

namespace sdnc::tasks {

namespace {

class BucketSortTask : public FormalLanguageTask {
 public:
  BucketSortTask() : FormalLanguageTask("bucket_sort", 5) {}
  std::vector<int64_t> solve(const std::vector<int64_t>& x) const override {
    std::vector<int64_t> y = x;
    std::sort(y.begin(), y.end());
    return y;
  }
  int64_t answer_steps(int64_t L) const override { return L; }
};

}  // namespace

std::unique_ptr<Task> make_bucket_sort_task(const TaskConfig&) { return std::make_unique<BucketSortTask>(); }

}  // namespace sdnc::tasks
