// Invokers of ops/shape for the op table.
#include "harness.h"

namespace sdnc::test {

namespace {
using Inputs = std::vector<Tensor>;
}  // namespace

SDNC_REGISTER_OP("reshape", [](const Inputs& x, const json& p) { return Inputs{reshape(x[0], p.at("shape").get<Shape>())}; });
SDNC_REGISTER_OP("transpose", [](const Inputs& x, const json& p) {
  return Inputs{transpose(x[0], p.at("d0").get<int64_t>(), p.at("d1").get<int64_t>())};
});
SDNC_REGISTER_OP("permute", [](const Inputs& x, const json& p) {
  return Inputs{permute(x[0], p.at("dims").get<std::vector<int64_t>>())};
});
SDNC_REGISTER_OP("slice", [](const Inputs& x, const json& p) {
  return Inputs{slice(x[0], p.at("axis").get<int64_t>(), p.at("start").get<int64_t>(), p.at("end").get<int64_t>())};
});
SDNC_REGISTER_OP("concat", [](const Inputs& x, const json& p) { return Inputs{concat(x, p.at("axis").get<int64_t>())}; });
// Several outputs: all of them, in order.
SDNC_REGISTER_OP("split", [](const Inputs& x, const json& p) {
  return split(x[0], p.at("sizes").get<std::vector<int64_t>>(), p.at("axis").get<int64_t>());
});
SDNC_REGISTER_OP("index_select", [](const Inputs& x, const json& p) {
  return Inputs{index_select(x[0], p.at("axis").get<int64_t>(), x[1])};
});
SDNC_REGISTER_OP("gather", [](const Inputs& x, const json& p) { return Inputs{gather(x[0], p.at("axis").get<int64_t>(), x[1])}; });
SDNC_REGISTER_OP("embedding", [](const Inputs& x, const json&) { return Inputs{embedding(x[0], x[1])}; });

}  // namespace sdnc::test
