// Invokers of ops/reduce for the op table.
#include "harness.h"

namespace sdnc::test {

namespace {
using Inputs = std::vector<Tensor>;
int64_t axis(const json& p) { return p.at("axis").get<int64_t>(); }
bool keepdim(const json& p) { return p.value("keepdim", false); }
}  // namespace

SDNC_REGISTER_OP("sum", [](const Inputs& x, const json& p) { return Inputs{sum(x[0], axis(p), keepdim(p))}; });
SDNC_REGISTER_OP("mean", [](const Inputs& x, const json& p) { return Inputs{mean(x[0], axis(p), keepdim(p))}; });
SDNC_REGISTER_OP("max", [](const Inputs& x, const json& p) { return Inputs{max(x[0], axis(p), keepdim(p))}; });
SDNC_REGISTER_OP("sum_all", [](const Inputs& x, const json&) { return Inputs{sum_all(x[0])}; });
SDNC_REGISTER_OP("mean_all", [](const Inputs& x, const json&) { return Inputs{mean_all(x[0])}; });

}  // namespace sdnc::test
