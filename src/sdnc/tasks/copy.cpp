// copy.cpp — the copy task (Graves et al. 2014): read L random bit rows, then write them back.
//   input  channels X = num_bits + 1: [bits, delimiter]
//   rows:  L bit rows, one delimiter row, L zero rows                  (T = 2L + 1)
//   target channels Y = num_bits: L + 1 zero rows, then the L bit rows; mask 1 on those L rows.
#include <algorithm>

#include "sdnc/tasks/task.h"

namespace sdnc::tasks {

namespace {

class CopyTask : public Task {
 public:
  explicit CopyTask(const TaskConfig& c) : bits_(c.num_bits) {}
  std::string name() const override { return "copy"; }
  TaskKind kind() const override { return TaskKind::Bits; }
  int64_t input_size() const override { return bits_ + 1; }
  int64_t output_size() const override { return bits_; }
  int64_t max_steps(int64_t L) const override { return 2 * L + 1; }

  Batch sample(Generator& g, int64_t B, int64_t min_len, int64_t max_len, bool) const override {
    std::vector<int64_t> lengths(B);
    int64_t T = 0;
    for (auto& L : lengths) T = std::max(T, max_steps(L = g.randint(min_len, max_len + 1)));
    int64_t X = input_size(), Y = output_size();
    Batch b = empty_bit_batch(B, T, X, Y);
    for (int64_t e = 0; e < B; ++e) {
      int64_t L = lengths[e];
      float* in = b.inputs.data<float>() + e * T * X;
      float* out = b.targets.data<float>() + e * T * Y;
      float* mask = b.mask.data<float>() + e * T;
      fill_random_bits(g, in, L, X, bits_);
      in[L * X + bits_] = 1.0f;  // delimiter
      for (int64_t t = 0; t < L; ++t) {
        for (int64_t i = 0; i < bits_; ++i) out[(L + 1 + t) * Y + i] = in[t * X + i];
        mask[L + 1 + t] = 1.0f;
      }
    }
    return b;
  }

 private:
  int64_t bits_;
};

}  // namespace

std::unique_ptr<Task> make_copy_task(const TaskConfig& c) { return std::make_unique<CopyTask>(c); }

}  // namespace sdnc::tasks
