// node.h — one recorded operation on the autograd tape.
//
// An op whose inputs need gradients creates a Node subclass that (1) saves, explicitly,
// the tensors its backward needs, (2) links to the producers of its inputs (edges), and
// (3) implements backward: gradients of its outputs in, gradients of its inputs out.
// After the engine has called backward, it calls release(), which frees saved tensors.
//
// Accumulation rule (written once, here): the engine sums gradients arriving at the same
// tensor from several consumers; a leaf's .grad accumulates (+=) across backward calls
// until zero_grad().
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sdnc/core/tensor.h"

namespace sdnc {

// Where the gradient of one input goes: to the node that produced it, or to a leaf.
struct Edge {
  std::shared_ptr<Node> fn;          // producer of a non-leaf input
  int output_nr = 0;                 // which output of fn
  std::shared_ptr<TensorImpl> leaf;  // a leaf that requires grad
  bool connected() const { return fn || leaf; }
};

class Node {
 public:
  virtual ~Node() = default;
  virtual const char* name() const = 0;

  // grads_out[k] is d loss / d output k (a zeros tensor if output k received none).
  // Returns one tensor per input; an undefined tensor means "no gradient".
  virtual std::vector<Tensor> backward(const std::vector<Tensor>& grads_out) = 0;

  // Frees saved tensors; called by the engine once backward has run.
  virtual void release() {}

  // Filled by attach_node().
  std::vector<Edge> next;           // one per input
  std::vector<Shape> output_shapes;  // one per output
  DType output_dtype = DType::F32;
  uint64_t sequence = 0;            // creation order: a valid topological order
  bool released = false;
  // A collector (ops/sequence_weights.h): the engine runs it once reached, even when every
  // edge into it fired without a gradient (its consumers record their part instead).
  bool runs_without_gradient = false;

  // Whether input i needs a gradient (saves work in backward).
  bool needs_input_grad(size_t i) const { return i < next.size() && next[i].connected(); }
};

// True when grad mode is on and any of the inputs requires grad (directly or via history).
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);
bool any_requires_grad(const std::vector<Tensor>& inputs);

// Wires node into the graph: edges to inputs, outputs marked as produced by node.
void attach_node(const std::shared_ptr<Node>& node, const std::vector<const Tensor*>& inputs,
                 const std::vector<Tensor*>& outputs);

// Convenience for the common one-output case: builds N with args, attaches it when any
// input needs grad, and returns the node (nullptr when none does) so the caller can save
// tensors into it.
template <class N, class... Args>
std::shared_ptr<N> record(std::initializer_list<const Tensor*> inputs, Tensor& output, Args&&... args) {
  if (!any_requires_grad(inputs)) return nullptr;
  auto node = std::make_shared<N>(std::forward<Args>(args)...);
  attach_node(node, std::vector<const Tensor*>(inputs), {&output});
  return node;
}

}  // namespace sdnc
