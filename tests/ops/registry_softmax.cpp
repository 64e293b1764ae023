// Invokers of ops/softmax for the op table. params: "axis" (default -1).
#include "harness.h"

namespace sdnc::test {

SDNC_REGISTER_OP("softmax", [](const std::vector<Tensor>& in, const json& p) {
  return std::vector<Tensor>{softmax(in[0], p.value("axis", int64_t{-1}))};
});
SDNC_REGISTER_OP("log_softmax", [](const std::vector<Tensor>& in, const json& p) {
  return std::vector<Tensor>{log_softmax(in[0], p.value("axis", int64_t{-1}))};
});

}  // namespace sdnc::test
