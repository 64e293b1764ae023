#include "sdnc/tasks/scoring.h"

#include "sdnc/core/error.h"

namespace sdnc::tasks {

namespace {

bool is_babi_group(const std::string& g) {
  if (g.size() < 3 || !g.starts_with("qa")) return false;
  for (size_t i = 2; i < g.size(); ++i)
    if (g[i] < '0' || g[i] > '9') return false;
  return true;
}

}  // namespace

int64_t argmax_row(const float* row, int64_t C) {
  int64_t best = 0;
  for (int64_t c = 1; c < C; ++c)
    if (row[c] > row[best]) best = c;
  return best;
}

void add_scores(const Tensor& logits_in, const Batch& batch, GroupScores& scores) {
  Tensor logits = logits_in.dtype() == DType::F32 ? logits_in : logits_in.to(DType::F32);
  if (logits.ndim() != 3 || !batch.targets.defined() || batch.targets.ndim() != 2 ||
      logits.size(0) != batch.targets.size(0) || logits.size(1) != batch.targets.size(1))
    fail("scoring", "logits {} do not match targets {} (want [B, T, V] and [B, T])", shape_str(logits.shape()),
         batch.targets.defined() ? shape_str(batch.targets.shape()) : "(none)");
  const int64_t B = logits.size(0), T = logits.size(1), V = logits.size(2);
  if (static_cast<int64_t>(batch.groups.size()) != B)
    fail("scoring", "the batch has {} sequences but {} group names", B, batch.groups.size());
  const float* x = logits.data<float>();
  const int64_t* target = batch.targets.data<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    int64_t scored = 0, right = 0;
    for (int64_t t = 0; t < T; ++t) {
      int64_t want = target[b * T + t];
      if (want < 0) continue;
      ++scored;
      right += argmax_row(x + (b * T + t) * V, V) == want;
    }
    if (scored == 0) continue;
    GroupScore& s = scores[batch.groups[b]];
    s.tokens += scored;
    s.tokens_right += right;
    s.sequences += 1;
    s.sequences_right += right == scored;
  }
}

Metrics group_metrics(const GroupScores& scores) {
  Metrics m;
  GroupScore all;
  bool babi = !scores.empty();
  double error_sum = 0;
  int64_t failed = 0;
  for (const auto& [g, s] : scores) {
    double seq = static_cast<double>(s.sequences_right) / static_cast<double>(s.sequences);
    m["token_accuracy[" + g + "]"] = static_cast<double>(s.tokens_right) / static_cast<double>(s.tokens);
    m["seq_accuracy[" + g + "]"] = seq;
    m["sequences[" + g + "]"] = static_cast<double>(s.sequences);
    all.tokens += s.tokens;
    all.tokens_right += s.tokens_right;
    all.sequences += s.sequences;
    all.sequences_right += s.sequences_right;
    babi = babi && is_babi_group(g);
    error_sum += 1.0 - seq;
    failed += 20 * (s.sequences - s.sequences_right) > s.sequences;  // error > 5%, in integers
  }
  if (all.sequences > 0) {
    m["token_accuracy"] = static_cast<double>(all.tokens_right) / static_cast<double>(all.tokens);
    m["seq_accuracy"] = static_cast<double>(all.sequences_right) / static_cast<double>(all.sequences);
  }
  if (babi) {
    m["mean_error"] = error_sum / static_cast<double>(scores.size());
    m["failed_tasks"] = static_cast<double>(failed);
  }
  return m;
}

Metrics evaluate_outputs(const Tensor& logits, const Batch& batch) {
  GroupScores scores;
  add_scores(logits, batch, scores);
  return group_metrics(scores);
}

}  // namespace sdnc::tasks
