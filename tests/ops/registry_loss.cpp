// Invokers of ops/loss for the op table.
//   cross_entropy: inputs logits, targets (I64 "index", or floating "values" converted to
//     I64); params "ignore_index" (default -100) and "ignore_at" (flat positions of targets
//     set to ignore_index before the call).
//   sigmoid_bce_with_logits: inputs logits, targets[, mask]; params "reduction".
#include "harness.h"

namespace sdnc::test {

SDNC_REGISTER_OP("cross_entropy", [](const std::vector<Tensor>& in, const json& p) {
  int64_t ignore_index = p.value("ignore_index", int64_t{-100});
  Tensor targets = in[1];
  std::vector<int64_t> t;
  if (is_floating(targets.dtype())) {
    for (double v : targets.to_doubles()) t.push_back(static_cast<int64_t>(v));
  } else {
    t = targets.to_indices();
  }
  for (int64_t pos : p.value("ignore_at", std::vector<int64_t>{})) t.at(pos) = ignore_index;
  return std::vector<Tensor>{cross_entropy(in[0], Tensor::from_indices(t, targets.shape()), ignore_index)};
});

SDNC_REGISTER_OP("sigmoid_bce_with_logits", [](const std::vector<Tensor>& in, const json& p) {
  return std::vector<Tensor>{sigmoid_bce_with_logits(in[0], in[1], in.size() > 2 ? in[2] : Tensor(),
                                                     p.value("reduction", std::string("mean")))};
});

}  // namespace sdnc::test
