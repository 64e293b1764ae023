// repeat_copy.cpp — DeepMind's RepeatCopy, laid out exactly as /work/shared/DNC.md B.1:
//   observation channels X = num_bits + 2: [bits, start flag, repeat count]
//   rows: start flag; L random bit rows; repeat count k / norm_max (norm_max = 10); L·k + 1 zeros
//   target channels Y = num_bits + 1: [bits, end flag]
//   rows: L + 2 zero rows, the pattern k times, one end-flag row; mask 1 on those L·k + 1 rows
//   T = L(k + 1) + 3, zero-padded with mask 0 to the longest sequence of the batch.
// L ~ U{min_length..max_length} and k ~ U{min_repeats..max_repeats}, per batch element.
#include <algorithm>

#include "sdnc/core/error.h"
#include "sdnc/tasks/task.h"

namespace sdnc::tasks {

namespace {

constexpr double kNormMax = 10.0;

class RepeatCopyTask : public Task {
 public:
  explicit RepeatCopyTask(const TaskConfig& c) : bits_(c.num_bits), min_k_(c.min_repeats), max_k_(c.max_repeats) {
    if (min_k_ < 1 || max_k_ < min_k_)
      fail("task", "repeat_copy needs 1 <= min_repeats <= max_repeats, got {} and {}", min_k_, max_k_);
  }
  std::string name() const override { return "repeat_copy"; }
  TaskKind kind() const override { return TaskKind::Bits; }
  int64_t input_size() const override { return bits_ + 2; }
  int64_t output_size() const override { return bits_ + 1; }
  int64_t max_steps(int64_t L) const override { return L * (max_k_ + 1) + 3; }

  Batch sample(Generator& g, int64_t B, int64_t min_len, int64_t max_len, bool) const override {
    std::vector<int64_t> lengths(B), repeats(B);
    int64_t T = 0;
    for (int64_t e = 0; e < B; ++e) {
      lengths[e] = g.randint(min_len, max_len + 1);
      repeats[e] = g.randint(min_k_, max_k_ + 1);
      T = std::max(T, lengths[e] * (repeats[e] + 1) + 3);
    }
    int64_t X = input_size(), Y = output_size();
    Batch b = empty_bit_batch(B, T, X, Y);
    for (int64_t e = 0; e < B; ++e) {
      int64_t L = lengths[e], k = repeats[e];
      float* in = b.inputs.data<float>() + e * T * X;
      float* out = b.targets.data<float>() + e * T * Y;
      float* mask = b.mask.data<float>() + e * T;
      in[0 * X + bits_] = 1.0f;                                    // start flag
      fill_random_bits(g, in + 1 * X, L, X, bits_);                // the pattern
      in[(L + 1) * X + bits_ + 1] = static_cast<float>(static_cast<double>(k) / kNormMax);  // repeat count
      for (int64_t r = 0; r < k; ++r)
        for (int64_t t = 0; t < L; ++t)
          for (int64_t i = 0; i < bits_; ++i) out[(L + 2 + r * L + t) * Y + i] = in[(1 + t) * X + i];
      out[(L + 2 + L * k) * Y + bits_] = 1.0f;                     // end flag
      for (int64_t t = L + 2; t < L + 2 + L * k + 1; ++t) mask[t] = 1.0f;
    }
    return b;
  }

 private:
  int64_t bits_, min_k_, max_k_;
};

}  // namespace

std::unique_ptr<Task> make_repeat_copy_task(const TaskConfig& c) { return std::make_unique<RepeatCopyTask>(c); }

}  // namespace sdnc::tasks
