// Invokers of ops/layer_norm for the op table.
// Inputs: x, then the optional affine parameters named by params "affine":
// "both" (weight, bias; the default with 3 inputs), "weight", "bias", or "none" (1 input).
#include "harness.h"

namespace sdnc::test {

SDNC_REGISTER_OP("layer_norm", [](const std::vector<Tensor>& in, const json& p) {
  std::string affine = p.value("affine", in.size() == 3 ? "both" : in.size() == 1 ? "none" : "weight");
  Tensor w, b;
  if (affine == "both") w = in.at(1), b = in.at(2);
  else if (affine == "weight") w = in.at(1);
  else if (affine == "bias") b = in.at(1);
  return std::vector<Tensor>{layer_norm(in[0], w, b, p.value("eps", 1e-5))};
});

}  // namespace sdnc::test
