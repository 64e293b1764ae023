// Invokers of ops/cumprod for the op table. params: "axis", "exclusive" / "keepdim".
#include "harness.h"

namespace sdnc::test {

SDNC_REGISTER_OP("cumprod", [](const std::vector<Tensor>& in, const json& p) {
  return std::vector<Tensor>{cumprod(in[0], p.at("axis").get<int64_t>(), p.value("exclusive", false))};
});
SDNC_REGISTER_OP("prod", [](const std::vector<Tensor>& in, const json& p) {
  return std::vector<Tensor>{prod(in[0], p.at("axis").get<int64_t>(), p.value("keepdim", false))};
});

}  // namespace sdnc::test
