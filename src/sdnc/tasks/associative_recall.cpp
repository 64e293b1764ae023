// associative_recall.cpp — associative recall (Graves et al. 2014, NTM): a list of K items
// (each item_length rows of random bits), then a query item from the list; the answer is the
// item that followed it.
//   input channels X = num_bits + 2: [bits, item delimiter, query delimiter]
//   rows: K × (item delimiter row, item rows); query delimiter row, query item rows, query
//         delimiter row; item_length zero rows while the answer is written
//   target channels Y = num_bits: zeros, then the answer on the last item_length rows
//   (mask 1 there). T = (K + 1)(item_length + 1) + 1 + item_length.
// The task length is K (number of items, ≥ 2); the query is item q ~ U{0..K−2}.
#include <algorithm>

#include "sdnc/core/error.h"
#include "sdnc/tasks/task.h"

namespace sdnc::tasks {

namespace {

class AssociativeRecallTask : public Task {
 public:
  explicit AssociativeRecallTask(const TaskConfig& c) : bits_(c.num_bits), item_(c.item_length) {
    if (item_ < 1) fail("task", "associative_recall needs item_length >= 1, got {}", item_);
  }
  std::string name() const override { return "associative_recall"; }
  TaskKind kind() const override { return TaskKind::Bits; }
  int64_t input_size() const override { return bits_ + 2; }
  int64_t output_size() const override { return bits_; }
  int64_t max_steps(int64_t K) const override { return (K + 1) * (item_ + 1) + 1 + item_; }

  Batch sample(Generator& g, int64_t B, int64_t min_len, int64_t max_len, bool) const override {
    if (min_len < 2) fail("task", "associative_recall needs at least 2 items (min_length >= 2), got {}", min_len);
    std::vector<int64_t> counts(B);
    int64_t T = 0;
    for (auto& K : counts) T = std::max(T, max_steps(K = g.randint(min_len, max_len + 1)));
    int64_t X = input_size(), Y = output_size(), S = item_ + 1;  // S rows per item with its delimiter
    Batch b = empty_bit_batch(B, T, X, Y);
    for (int64_t e = 0; e < B; ++e) {
      int64_t K = counts[e], q = g.randint(0, K - 1);
      float* in = b.inputs.data<float>() + e * T * X;
      float* out = b.targets.data<float>() + e * T * Y;
      float* mask = b.mask.data<float>() + e * T;
      for (int64_t k = 0; k < K; ++k) {
        in[(k * S) * X + bits_] = 1.0f;
        fill_random_bits(g, in + (k * S + 1) * X, item_, X, bits_);
      }
      int64_t query = K * S;  // query delimiter, query item, query delimiter
      in[query * X + bits_ + 1] = 1.0f;
      for (int64_t r = 0; r < item_; ++r)
        for (int64_t i = 0; i < bits_; ++i) in[(query + 1 + r) * X + i] = in[(q * S + 1 + r) * X + i];
      in[(query + 1 + item_) * X + bits_ + 1] = 1.0f;
      int64_t answer = query + 2 + item_;
      for (int64_t r = 0; r < item_; ++r) {
        for (int64_t i = 0; i < bits_; ++i) out[(answer + r) * Y + i] = in[((q + 1) * S + 1 + r) * X + i];
        mask[answer + r] = 1.0f;
      }
    }
    return b;
  }

 private:
  int64_t bits_, item_;
};

}  // namespace

std::unique_ptr<Task> make_associative_recall_task(const TaskConfig& c) {
  return std::make_unique<AssociativeRecallTask>(c);
}

}  // namespace sdnc::tasks
