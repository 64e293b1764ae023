// Invokers of ops/loss for the op table.
//   cross_entropy: inputs logits, targets (I64 "index", or floating "values" converted to
//     I64); params "ignore_index" (default -100) and "ignore_at" (flat positions of targets
//     set to ignore_index before the call).
//   sigmoid_bce_with_logits: inputs logits, targets[, mask]; params "reduction".
#include "harness.h"

namespace sdnc::test {

namespace {
// The golden files store 0-dim tensors as [1] (tests/golden/safetensors_np.py writes through
// np.ascontiguousarray, which returns ndim >= 1), so a 0-dim loss is handed to the harness
// as [1] — through mul, which keeps its gradient path. The 0-dim shape itself is checked in
// tests/unit/test_fused_reference.cpp.
Tensor as_rank1(const Tensor& t) { return t.ndim() == 0 ? mul(t, Tensor::ones({1}, t.dtype())) : t; }
}  // namespace

SDNC_REGISTER_OP("cross_entropy", [](const std::vector<Tensor>& in, const json& p) {
  int64_t ignore_index = p.value("ignore_index", int64_t{-100});
  Tensor targets = in[1];
  std::vector<int64_t> t;
  // A 0-dim target (1-D logits) comes back from the golden file as [1]: restore its shape.
  Shape target_shape(in[0].shape().begin(), in[0].shape().end() - 1);
  if (targets.numel() == 1 && in[0].ndim() == 1) targets = targets.view(target_shape);
  if (is_floating(targets.dtype())) {
    for (double v : targets.to_doubles()) t.push_back(static_cast<int64_t>(v));
  } else {
    t = targets.to_indices();
  }
  for (int64_t pos : p.value("ignore_at", std::vector<int64_t>{})) t.at(pos) = ignore_index;
  return std::vector<Tensor>{as_rank1(cross_entropy(in[0], Tensor::from_indices(t, targets.shape()), ignore_index))};
});

SDNC_REGISTER_OP("sigmoid_bce_with_logits", [](const std::vector<Tensor>& in, const json& p) {
  return std::vector<Tensor>{as_rank1(sigmoid_bce_with_logits(in[0], in[1], in.size() > 2 ? in[2] : Tensor(),
                                                              p.value("reduction", std::string("mean"))))};
});

}  // namespace sdnc::test
