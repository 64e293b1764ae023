// formal_language.h — the shared layout of the formal-language tasks of Delétang et al. 2023
// ("Neural Networks and the Chomsky Hierarchy"): parity, modular_arithmetic, reverse_string,
// duplicate_string, bucket_sort (one file each). A sequence is the input string, then one cue
// step per answer symbol; the answer is scored at the cue steps:
//   token 0       padding
//   token 1       '-' the answer cue (the model writes one answer symbol per cue step)
//   token 2 + s   symbol s of the task's alphabet, s ∈ [0, A)
//   inputs  = [2 + x_1 … 2 + x_n, 1 × m]      (n input symbols, m answer symbols)
//   targets = [−100 × n, 2 + y_1 … 2 + y_m]
// The task length L is the input length n (modular_arithmetic: the number of operands). As the
// paper: train on L ≤ 40, test on 41–256; metric: per-token accuracy on the answer (their
// measure) and sequence accuracy, per length (evaluation group "length=L").
// Held out: the hash partition of instances (token_batch.h), on top of the disjoint lengths.
#pragma once
#include <string>
#include <vector>

#include "sdnc/tasks/task.h"

namespace sdnc::tasks {

inline constexpr int64_t kFormalPad = 0, kFormalCue = 1, kFormalFirstSymbol = 2;

class FormalLanguageTask : public Task {
 public:
  FormalLanguageTask(std::string name, int64_t alphabet) : name_(std::move(name)), alphabet_(alphabet) {}
  std::string name() const override { return name_; }
  TaskKind kind() const override { return TaskKind::Tokens; }
  int64_t input_size() const override { return kFormalFirstSymbol + alphabet_; }
  int64_t output_size() const override { return input_size(); }
  int64_t max_steps(int64_t L) const override { return input_steps(L) + answer_steps(L); }
  Batch sample(Generator& g, int64_t B, int64_t min_len, int64_t max_len, bool held_out) const override;

  // The input string (symbols in [0, A)) of task length L, and its answer.
  virtual std::vector<int64_t> draw_input(Generator& g, int64_t L) const;
  virtual std::vector<int64_t> solve(const std::vector<int64_t>& input) const = 0;
  // The number of input symbols and (at most) answer symbols at task length L.
  virtual int64_t input_steps(int64_t L) const { return L; }
  virtual int64_t answer_steps(int64_t L) const = 0;

 protected:
  std::string name_;
  int64_t alphabet_;
};

}  // namespace sdnc::tasks
