// backend/cpu/dnc_addressing.h — CPU kernels of ops/dnc_addressing: the whole memory access
// of one step of an allocating memory (DNC.md A.2–A.10) after the interface linear, forward
// and hand-written backward, one batch element at a time (parallel over the batch). The DNC's
// access is one corner; the dials (DncDims) select the others: scaled dot product instead of
// cosine, content-only reads (no link, precedence or read modes), a value matrix beside the keys.
//
// Letter legend: B batch, N slots, W word size, R read heads, H write heads, I interface
// width, S saved values per batch element.
//
// Interface layout (the raw output of the concatenated interface linears, in the reference's
// creation order): write_vectors [H·W], erase_vectors [H·W] (σ), free_gate [R] (σ),
// allocation_gate [H] (σ), write_gate [H] (σ), read_mode [R·(1+2H)] (softmax per read head
// over [backward₁..H, forward₁..H, content]; links only), write_keys [H·W], write_strengths [H]
// (softplus, +1 for oneplus; cosine only), read_keys [R·W], read_strengths [R] (softplus, +1
// for oneplus; cosine only). With separate keys and values, write_vectors are the values and
// write_keys are also what the key memory receives; shared: the key memory receives the
// write_vectors and write_keys only address it.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "sdnc/core/tensor.h"

namespace sdnc::cpu {

struct DncDims {
  int64_t N = 0, W = 0, R = 0, H = 0;
  bool oneplus = false;   // strength = 1 + softplus (the paper) instead of softplus
  bool cosine = true;     // similarity: cosine × strength | false: q·k/√W (no strengths)
  bool links = true;      // read modes: content + temporal links | false: content only
  bool separate = false;  // key/value: a value memory beside the keys | false: one word as both
};

// I: width of the raw interface vector.
int64_t dnc_interface_width(const DncDims& d);
// S: values saved per batch element by the forward for the backward.
int64_t dnc_saved_width(const DncDims& d);

// The reference's float32 allocation sort key of one usage value: 1 − (ε + (1 − ε)·u), each
// operation rounded to float32 (no fused multiply-add), sorted descending and stably.
float dnc_allocation_sort_key(double u);

// The access state, in this order everywhere below.
enum DncStatePart { kDncMemory, kDncReadWeights, kDncWriteWeights, kDncLink, kDncPrecedence, kDncUsage, kDncValues };
// memory [B,N,W] (the keys), read_weights [B,R,N], write_weights [B,H,N], link [B,H,N,N]
// and precedence [B,H,N] (links only), usage [B,N], values [B,N,W] (separate only); a part
// the dials do not have is an undefined tensor.
constexpr int kDncStateParts = 7;
using DncStateTensors = std::array<Tensor, kDncStateParts>;

// Forward of one step: iface [B, I] (raw), prev → words [B, R, W] and next (allocated by the
// caller). With saved [B, S] defined, it receives what the backward needs and order [B·H·N]
// the allocation permutation of every head (a constant of the backward).
void dnc_step_forward(const DncDims& d, const Tensor& iface, const DncStateTensors& prev, Tensor& words,
                      DncStateTensors& next, Tensor* saved, std::vector<int32_t>* order);

// Backward of one step, from the forward's inputs, outputs, saved and order, and the output
// gradients dwords [B, R, W], dnext → diface [B, I] and dprev (allocated here).
// dprev[kDncWriteWeights] stays undefined: the previous write weights only enter the usage,
// where they are stop-gradient (DNC.md A.4).
void dnc_step_backward(const DncDims& d, const Tensor& iface, const DncStateTensors& prev, const DncStateTensors& next,
                       const Tensor& saved, const std::vector<int32_t>& order, const Tensor& dwords,
                       const DncStateTensors& dnext, Tensor& diface, DncStateTensors& dprev);

}  // namespace sdnc::cpu
