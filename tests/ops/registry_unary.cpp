// Invokers of ops/unary for the op table.
#include "harness.h"

namespace sdnc::test {

namespace {
using Inputs = std::vector<Tensor>;

bool approximate_tanh(const json& p) {
  std::string mode = p.value("approximate", std::string("none"));
  if (mode != "none" && mode != "tanh") throw Error("[harness] gelu: approximate must be 'none' or 'tanh', got " + mode);
  return mode == "tanh";
}
}  // namespace

SDNC_REGISTER_OP("neg", [](const Inputs& x, const json&) { return Inputs{neg(x[0])}; });
SDNC_REGISTER_OP("exp", [](const Inputs& x, const json&) { return Inputs{exp(x[0])}; });
SDNC_REGISTER_OP("log", [](const Inputs& x, const json&) { return Inputs{log(x[0])}; });
SDNC_REGISTER_OP("sqrt", [](const Inputs& x, const json&) { return Inputs{sqrt(x[0])}; });
SDNC_REGISTER_OP("tanh", [](const Inputs& x, const json&) { return Inputs{tanh(x[0])}; });
SDNC_REGISTER_OP("sigmoid", [](const Inputs& x, const json&) { return Inputs{sigmoid(x[0])}; });
SDNC_REGISTER_OP("softplus", [](const Inputs& x, const json&) { return Inputs{softplus(x[0])}; });
SDNC_REGISTER_OP("relu", [](const Inputs& x, const json&) { return Inputs{relu(x[0])}; });
SDNC_REGISTER_OP("gelu", [](const Inputs& x, const json& p) { return Inputs{gelu(x[0], approximate_tanh(p))}; });
SDNC_REGISTER_OP("clamp", [](const Inputs& x, const json& p) {
  return Inputs{clamp(x[0], p.at("lo").get<double>(), p.at("hi").get<double>())};
});

}  // namespace sdnc::test
