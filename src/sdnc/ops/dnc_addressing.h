// dnc_addressing.h — the DNC's whole memory access of one step (DNC.md A.2–A.10) as ONE
// fused op with a hand-written backward: interface nonlinearities, usage, write content
// (old memory), allocation (stable float32-key sort, a constant of the backward), write
// weights, erase/add, link, precedence, read content (new memory), forward/backward
// weights, read modes, read weights and read words.
//
// Its plain reference decomposition is memory::DncAccess's composed path (one autograd op
// per piece, memory/{usage,cosine_weights,allocation,word_memory,temporal_links}.cpp); the
// tests compare the two in F64 and against the PyTorch golden, and check this op's backward
// by central finite differences.
//
// Letter legend: B batch, N slots, W word size, R read heads, H write heads, I interface width.
#pragma once
#include <vector>

#include "sdnc/core/tensor.h"

namespace sdnc {

// Width I of the raw interface vector for W, R, H (see backend/cpu/dnc_addressing.h for its
// layout: the interface linears' outputs concatenated in the reference's creation order).
int64_t dnc_interface_width(int64_t W, int64_t R, int64_t H);

// iface [B, I] raw interface (before the nonlinearities), the previous access state
//   memory [B, N, W], read_weights [B, R, N], write_weights [B, H, N], link [B, H, N, N],
//   precedence [B, H, N], usage [B, N]
// → {read words [B, R, W], memory, read_weights, write_weights, link, precedence, usage}
// (the new state, same shapes). oneplus: strengths 1 + softplus (the paper) instead of
// softplus (the reference). Gradients flow to iface and every previous state except the
// write weights (stop-gradient inside the usage, DNC.md A.4). F32 or F64, one dtype.
// Throws "[dnc_access_step] ..." on a shape or dtype mismatch.
std::vector<Tensor> dnc_access_step(const Tensor& iface, const Tensor& memory, const Tensor& read_weights,
                                    const Tensor& write_weights, const Tensor& link, const Tensor& precedence,
                                    const Tensor& usage, bool oneplus = false);

}  // namespace sdnc
