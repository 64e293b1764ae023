// sequence_weights.h — the weight gradient of a layer applied once per step of a sequence (an
// LSTM's gates, the DNC's interface), as one GEMM over every step instead of one per step.
//
// Step t computes Y_t = Σ_k X_k,t·W_kᵀ + b, so dW_k = Σ_t dY_tᵀ·X_k,t and db = Σ_t Σ_rows dY_t.
// Unbatched, each step's backward runs a GEMM of depth B for every W_k and the engine adds its
// [O, I_k] result to the running sum (T GEMMs and T adds of the whole weight). Batched:
//   forward   SequenceWeights::make({W_1, ..}, b): one node whose outputs alias the weights
//             and the bias (same storage); the steps compute with the aliases.
//   backward  each step's node calls record(dY_t, {X_1,t, ..}) and returns no gradient for the
//             aliases; the engine runs the SequenceWeights node once every step that reaches it
//             has run (it was created before them: Node::runs_without_gradient), which stacks
//             the recorded rows, D [n·B, O] and X_k [n·B, I_k], and adds dW_k = Dᵀ·X_k (one GEMM
//             of depth n·B; on the calling thread when one step's product would have been, as
//             cpu::gemm_is_small says) and db = Σ_rows D to any gradient the aliases received directly.
// A step not reached by the backward records nothing, so the sums are over the reached steps,
// as the unbatched form's. One backward per node, as every node (a second one through the same
// steps fails with the engine's "freed by an earlier backward").
// Legend: B batch (rows per step), n recorded steps, O output width, I_k input widths.
#pragma once
#include <memory>
#include <vector>

#include "sdnc/core/tensor.h"

namespace sdnc {

struct SequenceWeightsNode;

class SequenceWeights {
 public:
  // weights W_k [O, I_k] (the same O, the same floating dtype), bias [O] (may be undefined).
  // nullptr when nothing would record a gradient (grad mode off, or none requires grad).
  static std::shared_ptr<SequenceWeights> make(const std::vector<Tensor>& weights, const Tensor& bias = Tensor());

  const Tensor& weight(size_t k) const { return weights_[k]; }  // alias of W_k [O, I_k]
  const Tensor& bias() const { return bias_; }                  // alias of b [O] (undefined if none)
  size_t size() const { return weights_.size(); }

  // False once the node's backward has run: steps made after that need a new SequenceWeights.
  bool open() const;

  // From a step's backward: dy [rows, O], x[k] [rows, I_k] (the tensors are kept, not copied,
  // until the node's backward). Throws "[backward] ..." when the node has already run.
  void record(const Tensor& dy, const std::vector<Tensor>& x) const;

 private:
  std::vector<Tensor> weights_;
  Tensor bias_;
  std::shared_ptr<SequenceWeightsNode> node_;
};

// One step of a linear layer with a sequence's weights: x [rows, I] → x·Wᵀ + b [rows, O]
// (W = weights.weight(0), b = weights.bias()); its backward gives dx and records (dy, x).
Tensor sequence_linear(const Tensor& x, const SequenceWeights& weights);

}  // namespace sdnc
