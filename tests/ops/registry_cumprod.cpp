// Invokers of ops/cumprod for the op table. params: "axis", "exclusive" / "keepdim".
#include "harness.h"

namespace sdnc::test {

namespace {
// A 0-dim result (prod of a 1-D tensor) is handed to the harness as [1]: the golden files
// store 0-dim tensors as [1] (see registry_loss.cpp). mul keeps the gradient path.
Tensor as_rank1(const Tensor& t) { return t.ndim() == 0 ? mul(t, Tensor::ones({1}, t.dtype())) : t; }
}  // namespace

SDNC_REGISTER_OP("cumprod", [](const std::vector<Tensor>& in, const json& p) {
  return std::vector<Tensor>{cumprod(in[0], p.at("axis").get<int64_t>(), p.value("exclusive", false))};
});
SDNC_REGISTER_OP("prod", [](const std::vector<Tensor>& in, const json& p) {
  return std::vector<Tensor>{as_rank1(prod(in[0], p.at("axis").get<int64_t>(), p.value("keepdim", false)))};
});

}  // namespace sdnc::test
