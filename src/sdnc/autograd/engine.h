// engine.h — the reverse-mode sweep.
#pragma once
#include <functional>
#include <vector>

namespace sdnc {

class Tensor;
struct TensorImpl;

// Backpropagates from a one-element tensor: runs every node reachable from root.grad_fn
// in reverse creation order, sums gradients per tensor, accumulates into leaves' .grad,
// and releases each node's saved tensors after its backward.
// Throws "[backward] ..." for a root that is not a scalar or does not require grad, and
// for a graph whose saved tensors were already freed by an earlier backward.
void run_backward(const Tensor& root);

// General form: backpropagates grads[k] (same shape as roots[k]) from each root at once,
// as torch.autograd.backward(roots, grads). Roots without history are skipped.
void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads);

// While one is alive, the sweeps this thread runs call on_final(leaf) as soon as a leaf's .grad
// is final: every edge into it from a node the sweep reaches has been processed (so no later
// node can add to it). At most once per leaf per sweep, in the order the sweep finishes them;
// a leaf the sweep does not reach is not named. Data-parallel training starts a bucket's
// allreduce from it while the rest of the backward runs (dist/data_parallel.h). on_final must
// not throw.
class LeafGradientHook {
 public:
  explicit LeafGradientHook(std::function<void(TensorImpl& leaf)> on_final);
  ~LeafGradientHook();
  LeafGradientHook(const LeafGradientHook&) = delete;
  LeafGradientHook& operator=(const LeafGradientHook&) = delete;

 private:
  std::function<void(TensorImpl&)> previous_;
};

}  // namespace sdnc
