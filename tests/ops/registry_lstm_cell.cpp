// Invokers of ops/lstm_cell for the op table.
// Inputs: x, h, c, w_ih, w_hh[, bias]; params "forget_bias" (default 0). Outputs h_next, c_next.
#include "harness.h"

namespace sdnc::test {

SDNC_REGISTER_OP("lstm_cell", [](const std::vector<Tensor>& in, const json& p) {
  return lstm_cell(in[0], in[1], in[2], in[3], in[4], in.size() > 5 ? in[5] : Tensor(),
                   p.value("forget_bias", 0.0));
});

}  // namespace sdnc::test
