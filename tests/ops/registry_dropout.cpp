// Invokers of ops/dropout for the op table. params: "p", "training" (default true), "seed".
// Every call seeds a fresh Generator from "seed", so repeated calls (finite differences)
// draw the same mask.
#include "harness.h"

namespace sdnc::test {

SDNC_REGISTER_OP("dropout", [](const std::vector<Tensor>& in, const json& p) {
  Generator gen(p.value("seed", uint64_t{0}));
  return std::vector<Tensor>{dropout(in[0], p.at("p").get<double>(), p.value("training", true), gen)};
});

}  // namespace sdnc::test
