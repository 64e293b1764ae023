// engine.h — the reverse-mode sweep.
#pragma once
#include <vector>

namespace sdnc {

class Tensor;

// Backpropagates from a one-element tensor: runs every node reachable from root.grad_fn
// in reverse creation order, sums gradients per tensor, accumulates into leaves' .grad,
// and releases each node's saved tensors after its backward.
// Throws "[backward] ..." for a root that is not a scalar or does not require grad, and
// for a graph whose saved tensors were already freed by an earlier backward.
void run_backward(const Tensor& root);

// General form: backpropagates grads[k] (same shape as roots[k]) from each root at once,
// as torch.autograd.backward(roots, grads). Roots without history are skipped.
void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads);

}  // namespace sdnc
