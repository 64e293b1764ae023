// token_batch.h — what the token tasks (mqar, the formal languages, babi, graph_shortest_path)
// share: one sequence as input tokens and scored targets, packed into a Tokens batch, and the
// hash partition that keeps held-out instances disjoint from training ones.
//
// Layout of a packed batch (legend: B batch, T time = the longest sequence of the batch):
//   tokens  I64 [B, T]  input token ids; shorter sequences are padded with `pad`
//   targets I64 [B, T]  the token to predict at that step, or −100 (kNotScored) where the step
//                       is not scored (padding included)
//   groups  B strings   the evaluation group of each sequence ("length=64 pairs=4", "qa3", ...)
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sdnc/tasks/task.h"

namespace sdnc::tasks {

inline constexpr int64_t kNotScored = -100;

struct TokenSequence {
  std::vector<int64_t> inputs;   // [T]
  std::vector<int64_t> targets;  // [T], kNotScored where not scored
  std::string group;
};

// Pads and stacks sequences into batch.tokens / batch.targets / batch.groups.
Batch pack_token_batch(const std::vector<TokenSequence>& sequences, int64_t pad);

// The split an instance belongs to: held out iff the lowest bit of a hash of its inputs and
// targets (salted by the task name) is 1. A training and a held-out instance therefore never
// have the same inputs and targets.
bool is_held_out_instance(const TokenSequence& s, const std::string& task_name);

// Draws instances with `draw` until one falls in the wanted split (about 2 draws on average).
// Throws "[task] NAME: no {training|held-out} instance ..." after 4096 draws (a length whose
// instance space is too small to hold both splits).
TokenSequence draw_in_split(Generator& g, bool held_out, const std::string& task_name,
                            const std::function<TokenSequence(Generator&)>& draw);

}  // namespace sdnc::tasks
