// mqar.cpp — multi-query associative recall (MQAR; Arora et al. 2023, "Zoology"): P key-value
// pairs, then every key queried once, in random order, among filler; the model must answer each
// query with its key's value. Next-token layout over V token ids (V = vocab_size, default 8192):
//   token 0            filler
//   keys   [1, V/2)    P distinct keys per sequence
//   values [V/2, V)    drawn independently (values may repeat)
//   steps 0 .. 2P−1    k1 v1 k2 v2 … kP vP                       (not scored)
//   steps 2P .. L−1    filler, except P query steps at distinct uniformly drawn positions,
//                      each holding one key (a random order of the P keys); the target at a
//                      query step is that key's value                     (scored: P steps)
// The task length L is the sequence length T; P = num_pairs, or L/16 when num_pairs is 0 (so
// (64, 4), (128, 8), (256, 16) as Zoology's grid); L ≥ 3P. Evaluation group "length=L pairs=P";
// metric: accuracy at the query steps per (length, pairs) (scoring.h).
// Deviation from Zoology: query positions are uniform over the tail, not power-law spaced.
// Held out: the hash partition of instances (token_batch.h).
#include <algorithm>

#include "sdnc/core/error.h"
#include "sdnc/tasks/token_batch.h"

namespace sdnc::tasks {

namespace {

class MqarTask : public Task {
 public:
  explicit MqarTask(const TaskConfig& c) : vocab_(c.vocab_size), pairs_(c.num_pairs) {
    if (vocab_ < 4) fail("task", "mqar needs vocab_size >= 4, got {}", vocab_);
    if (pairs_ < 0) fail("task", "mqar needs num_pairs >= 0, got {}", pairs_);
  }
  std::string name() const override { return "mqar"; }
  TaskKind kind() const override { return TaskKind::Tokens; }
  int64_t input_size() const override { return vocab_; }
  int64_t output_size() const override { return vocab_; }
  int64_t max_steps(int64_t L) const override { return L; }

  int64_t pairs_at(int64_t L) const { return pairs_ > 0 ? pairs_ : std::max<int64_t>(1, L / 16); }

  Batch sample(Generator& g, int64_t B, int64_t min_len, int64_t max_len, bool held_out) const override {
    std::vector<TokenSequence> seqs;
    for (int64_t e = 0; e < B; ++e) {
      int64_t L = g.randint(min_len, max_len + 1), P = pairs_at(L);
      if (3 * P > L) fail("task", "mqar: length {} cannot hold {} pairs and their queries (needs length >= {})", L, P, 3 * P);
      if (P > vocab_ / 2 - 1)
        fail("task", "mqar: {} distinct keys do not fit vocab_size {} (keys are [1, {}))", P, vocab_, vocab_ / 2);
      seqs.push_back(draw_in_split(g, held_out, name(), [&](Generator& r) { return draw(r, L, P); }));
    }
    return pack_token_batch(seqs, 0);
  }

 private:
  TokenSequence draw(Generator& g, int64_t L, int64_t P) const {
    const int64_t half = vocab_ / 2;
    TokenSequence s{std::vector<int64_t>(L, 0), std::vector<int64_t>(L, kNotScored),
                    "length=" + std::to_string(L) + " pairs=" + std::to_string(P)};
    std::vector<int64_t> keys, values;
    while (static_cast<int64_t>(keys.size()) < P) {
      int64_t k = g.randint(1, half);
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
    }
    for (int64_t p = 0; p < P; ++p) {
      values.push_back(g.randint(half, vocab_));
      s.inputs[2 * p] = keys[p];
      s.inputs[2 * p + 1] = values[p];
    }
    // P distinct query steps in [2P, L) (a partial Fisher-Yates shuffle), keys in random order.
    std::vector<int64_t> steps(L - 2 * P), order(P);
    for (int64_t i = 0; i < L - 2 * P; ++i) steps[i] = 2 * P + i;
    for (int64_t i = 0; i < P; ++i) std::swap(steps[i], steps[g.randint(i, L - 2 * P)]);
    for (int64_t i = 0; i < P; ++i) order[i] = i;
    for (int64_t i = P - 1; i > 0; --i) std::swap(order[i], order[g.randint(0, i + 1)]);
    for (int64_t i = 0; i < P; ++i) {
      s.inputs[steps[i]] = keys[order[i]];
      s.targets[steps[i]] = values[order[i]];
    }
    return s;
  }

  int64_t vocab_, pairs_;
};

}  // namespace

std::unique_ptr<Task> make_mqar_task(const TaskConfig& c) { return std::make_unique<MqarTask>(c); }

}  // namespace sdnc::tasks
