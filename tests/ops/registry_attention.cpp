// Invokers of ops/attention for the op table.
#include "harness.h"

namespace sdnc::test {

SDNC_REGISTER_OP("attention", [](const std::vector<Tensor>& x, const json& p) {
  AttentionOptions o;
  o.causal = p.value("causal", false);
  o.scale = p.value("scale", 0.0);
  return std::vector<Tensor>{attention(x[0], x[1], x[2], x.size() > 3 ? x[3] : Tensor(), o)};
});

}  // namespace sdnc::test
