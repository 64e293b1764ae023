#include "sdnc/ops/dnc_addressing.h"

#include "sdnc/ops/allocate_access.h"
#include "sdnc/ops/checks.h"

namespace sdnc {

// The DNC's access is allocate_access_step's default corner (cosine, links, shared).

int64_t dnc_interface_width(int64_t W, int64_t R, int64_t H) { return allocate_interface_width(W, R, H, {}); }

std::vector<Tensor> dnc_access_step(const Tensor& iface, const Tensor& memory, const Tensor& read_weights,
                                    const Tensor& write_weights, const Tensor& link, const Tensor& precedence,
                                    const Tensor& usage, bool oneplus) {
  AccessDials dials;
  dials.oneplus = oneplus;
  for (const Tensor* t : {&link, &precedence})
    if (!t->defined()) fail("dnc_access_step", "the DNC access needs its link and precedence");
  std::vector<Tensor> out =
      allocate_access_step(iface, {memory, read_weights, write_weights, link, precedence, usage, Tensor()}, dials);
  out.pop_back();  // no value memory
  return out;
}

}  // namespace sdnc
