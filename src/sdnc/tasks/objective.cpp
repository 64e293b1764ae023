#include "sdnc/tasks/objective.h"

#include <cmath>

#include "sdnc/ops/ops.h"
#include "sdnc/tasks/scoring.h"

namespace sdnc::tasks {

Tensor task_loss(TaskKind kind, const Tensor& logits, const Batch& batch) {
  if (kind == TaskKind::Bits)
    return mul_scalar(sigmoid_bce_with_logits(logits, batch.targets, batch.mask, "sum"),
                      1.0 / static_cast<double>(logits.size(0)));
  return cross_entropy(logits, batch.targets);
}

double loss_count(TaskKind kind, const Batch& batch) {
  if (kind == TaskKind::Bits) return static_cast<double>(batch.targets.size(0));
  const int64_t* t = batch.targets.data<int64_t>();
  double kept = 0;
  for (int64_t i = 0; i < batch.targets.numel(); ++i) kept += t[i] != -100;
  return kept;
}

Metrics task_metrics(TaskKind kind, const Tensor& logits_in, const Batch& batch, double loss) {
  Tensor logits = logits_in.dtype() == DType::F32 ? logits_in : logits_in.to(DType::F32);
  int64_t B = logits.size(0), T = logits.size(1), C = logits.size(2);
  const float* x = logits.data<float>();
  Metrics m{{"loss", loss}};
  if (kind == TaskKind::Bits) {
    const float* y = batch.targets.data<float>();
    const float* mask = batch.mask.data<float>();
    double errors = 0, perfect = 0;
    for (int64_t b = 0; b < B; ++b) {
      int64_t wrong = 0;
      for (int64_t t = 0; t < T; ++t) {
        if (mask[b * T + t] == 0.0f) continue;
        for (int64_t i = 0; i < C; ++i) {
          int64_t k = (b * T + t) * C + i;
          wrong += (x[k] > 0.0f) != (y[k] > 0.5f);
        }
      }
      errors += static_cast<double>(wrong);
      perfect += wrong == 0;
    }
    m["bit_errors"] = errors / static_cast<double>(B);
    m["seq_accuracy"] = perfect / static_cast<double>(B);
    return m;
  }
  if (!batch.groups.empty()) {  // the token tasks with scored steps: scoring.h
    for (auto& [name, v] : evaluate_outputs(logits, batch)) m[name] = v;
    return m;
  }
  const int64_t* target = batch.targets.data<int64_t>();
  double right = 0, counted = 0, perfect = 0;
  for (int64_t b = 0; b < B; ++b) {
    bool all = true;
    for (int64_t t = 0; t < T; ++t) {
      int64_t want = target[b * T + t];
      if (want < 0) continue;
      bool ok = argmax_row(x + (b * T + t) * C, C) == want;
      right += ok;
      counted += 1;
      all = all && ok;
    }
    perfect += all;
  }
  if (kind == TaskKind::Tokens) {
    m["bits_per_char"] = loss / std::log(2.0);
    m["perplexity"] = std::exp(loss);
    m["accuracy"] = counted > 0 ? right / counted : 0.0;
  } else {
    m["token_accuracy"] = counted > 0 ? right / counted : 0.0;
    m["seq_accuracy"] = perfect / static_cast<double>(B);
  }
  return m;
}

std::string headline_metric(const Task& task) {
  if (task.name() == "babi") return "mean_error";
  if (task.kind() == TaskKind::Tokens && task.name() != "char_lm") return "token_accuracy";
  return headline_metric(task.kind());
}

std::string headline_metric(TaskKind kind) {
  switch (kind) {
    case TaskKind::Bits: return "bit_errors";
    case TaskKind::Tokens: return "bits_per_char";
    case TaskKind::Seq2Seq: return "seq_accuracy";
  }
  return "loss";
}

}  // namespace sdnc::tasks
