// objective.h — what training minimises and what evaluation reports, per kind of task.
//   Bits    : loss = Σ_{b,t,i} mask·BCE(logits, targets) / B   (nats per sequence, as
//             DeepMind's repeat-copy); metrics bit_errors (wrong bits per sequence, on masked
//             steps, output bit = logit > 0) and seq_accuracy (fraction of sequences with none)
//   Tokens  : loss = mean cross-entropy over the scored steps (targets −100 are not scored)
//             char_lm: nats per character; bits_per_char = loss / ln 2, perplexity = e^loss,
//             accuracy (argmax = next character)
//             the token tasks with evaluation groups (mqar, formal languages, babi, graph):
//             token_accuracy and seq_accuracy at the scored steps, overall and per group, and
//             for babi mean_error and failed_tasks — scoring.h
//   Seq2Seq : loss = mean cross-entropy over answer tokens and EOS; token_accuracy and
//             seq_accuracy (every token of the answer right — with teacher forcing, which for
//             greedy decoding is the same event)
// Legend: B batch, T time, Y outputs, V vocabulary.
#pragma once
#include <map>
#include <string>

#include "sdnc/tasks/task.h"

namespace sdnc::tasks {

using Metrics = std::map<std::string, double>;

// logits [B, T, Y] (Bits) or [B, T, V]. Records autograd on logits.
Tensor task_loss(TaskKind kind, const Tensor& logits, const Batch& batch);

// What task_loss divides its sum by: B for Bits, the count of scored targets (≠ −100)
// otherwise. Data-parallel training (dist/data_parallel.h) weighs each shard's loss by it.
double loss_count(TaskKind kind, const Batch& batch);

// The metrics above plus "loss" (the value of task_loss), from logits without gradient.
Metrics task_metrics(TaskKind kind, const Tensor& logits, const Batch& batch, double loss);

// The metric that says how well a task is solved, for tables: bit_errors, bits_per_char or
// seq_accuracy.
std::string headline_metric(TaskKind kind);
// The same for a task: babi mean_error, the other token tasks but char_lm token_accuracy.
std::string headline_metric(const Task& task);

}  // namespace sdnc::tasks
