// allocate_access.h — the whole memory access of one step of an allocating memory (DNC.md
// A.2–A.10) as ONE fused op with a hand-written backward, for every allocate corner of the
// machine's dials: interface nonlinearities, usage, write content (old memory), allocation
// (stable float32-key sort, a constant of the backward), write weights, erase/add, link,
// precedence, read content (new memory), forward/backward weights, read modes, read weights
// and read words. The DNC's access (ops/dnc_addressing.h) is one corner; the others drop the
// links, swap cosine for a scaled dot product, or keep a value memory beside the keys
// (docs/machine.md). CPU kernels: backend/cpu/dnc_addressing.
//
// Its plain reference decomposition is the machine's composed parts, machine::write_step +
// read_step (machine/write_head.cpp, read_heads.cpp; for the DNC corner also memory::DncAccess's
// composed path). The tests compare them in F64 (tests/unit/test_fused_access.cpp,
// test_dnc_fused.cpp, the DNC corner also against the PyTorch golden) and check this op's
// backward by central finite differences.
//
// Letter legend: B batch, N slots, W word size, R read heads, H write heads, I interface width.
#pragma once
#include <vector>

#include "sdnc/core/tensor.h"

namespace sdnc {

// The dials of the fused access; the defaults are the DNC's access.
struct AccessDials {
  bool cosine = true;     // similarity: cosine × strength | false: q·k/√W, no strengths
  bool links = true;      // read modes: content + temporal links | false: content only
  bool separate = false;  // key/value: a value memory beside the keys | false: one word as both
  bool oneplus = false;   // cosine strengths: 1 + softplus (the paper) | softplus (the reference)
};

// Width I of the raw interface vector for W, R, H and the dials (see
// backend/cpu/dnc_addressing.h for its layout: the interface linears' outputs concatenated in
// the reference's creation order, absent parts left out).
int64_t allocate_interface_width(int64_t W, int64_t R, int64_t H, const AccessDials& dials);

// iface [B, I] raw interface (before the nonlinearities), the previous access state in this
// order (an undefined tensor where the dials have no such part):
//   memory [B, N, W] (the keys), read_weights [B, R, N], write_weights [B, H, N],
//   link [B, H, N, N] and precedence [B, H, N] (links only), usage [B, N],
//   values [B, N, W] (separate only)
// → {read words [B, R, W], then the new state in the same order and shapes}. Reads return
// rows of the value memory when separate, of the key memory otherwise. Gradients flow to
// iface and every previous state except the write weights (stop-gradient inside the usage,
// DNC.md A.4). F32 or F64, one dtype. Throws "[allocate_access_step] ..." on a shape, dtype
// or missing / unexpected part.
std::vector<Tensor> allocate_access_step(const Tensor& iface, const std::vector<Tensor>& prev,
                                         const AccessDials& dials);

}  // namespace sdnc
