// Invokers of ops/elementwise and ops/matmul for the op table.
#include "harness.h"

namespace sdnc::test {

SDNC_REGISTER_OP("add", [](const std::vector<Tensor>& x, const json&) { return std::vector<Tensor>{add(x[0], x[1])}; });
SDNC_REGISTER_OP("sub", [](const std::vector<Tensor>& x, const json&) { return std::vector<Tensor>{sub(x[0], x[1])}; });
SDNC_REGISTER_OP("mul", [](const std::vector<Tensor>& x, const json&) { return std::vector<Tensor>{mul(x[0], x[1])}; });
SDNC_REGISTER_OP("div", [](const std::vector<Tensor>& x, const json&) { return std::vector<Tensor>{div(x[0], x[1])}; });
SDNC_REGISTER_OP("add_scalar", [](const std::vector<Tensor>& x, const json& p) {
  return std::vector<Tensor>{add_scalar(x[0], p.at("s").get<double>())};
});
SDNC_REGISTER_OP("mul_scalar", [](const std::vector<Tensor>& x, const json& p) {
  return std::vector<Tensor>{mul_scalar(x[0], p.at("s").get<double>())};
});
SDNC_REGISTER_OP("matmul", [](const std::vector<Tensor>& x, const json&) { return std::vector<Tensor>{matmul(x[0], x[1])}; });
SDNC_REGISTER_OP("bmm", [](const std::vector<Tensor>& x, const json&) { return std::vector<Tensor>{bmm(x[0], x[1])}; });
SDNC_REGISTER_OP("linear", [](const std::vector<Tensor>& x, const json&) {
  return std::vector<Tensor>{linear(x[0], x[1], x.size() > 2 ? x[2] : Tensor())};
});

}  // namespace sdnc::test
