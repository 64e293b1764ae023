// scoring.h — a model's outputs on held-out batches of a token task (token_batch.h) turned into
// the task's metrics, per evaluation group (mqar: per (length, pairs); the formal languages
// and graph_shortest_path: per length; babi: per task). What a study calls after running a
// model on held-out batches:
//   GroupScores scores;
//   for each batch: add_scores(logits, batch, scores);   // logits [B, T, V]
//   Metrics m = group_metrics(scores);
// A step is scored when its target is not −100; its output is right when argmax over V equals
// the target. A sequence is right when every scored step is (sequences without a scored step
// are not counted). Metrics, for every group G:
//   "token_accuracy[G]"  right scored steps / scored steps   (Delétang et al.'s measure; MQAR's)
//   "seq_accuracy[G]"    right sequences / sequences          (bAbI: answer accuracy)
//   "sequences[G]"       how many sequences were scored
// and over all groups "token_accuracy", "seq_accuracy". When every group is a bAbI task
// ("qa1".."qa20") also the DNC paper's measure: "mean_error" = mean over the tasks present of
// 1 − seq_accuracy[qaN], and "failed_tasks" = how many of them have error > 0.05.
#pragma once
#include <map>
#include <string>

#include "sdnc/tasks/objective.h"

namespace sdnc::tasks {

struct GroupScore {
  int64_t tokens = 0, tokens_right = 0, sequences = 0, sequences_right = 0;
};
using GroupScores = std::map<std::string, GroupScore>;

// Adds one batch: logits [B, T, V] (F32 or convertible), batch.targets I64 [B, T],
// batch.groups (B names). Throws "[scoring] ..." when the shapes or the groups do not match.
void add_scores(const Tensor& logits, const Batch& batch, GroupScores& scores);

// The metrics above from accumulated scores.
Metrics group_metrics(const GroupScores& scores);

// The index of the largest of C values (the first one on ties): the predicted class.
int64_t argmax_row(const float* row, int64_t C);

// add_scores + group_metrics for one batch.
Metrics evaluate_outputs(const Tensor& logits, const Batch& batch);

}  // namespace sdnc::tasks
