#include "sdnc/autograd/engine.h"

#include <atomic>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "sdnc/autograd/grad_mode.h"
#include "sdnc/autograd/node.h"
#include "sdnc/ops/elementwise.h"

namespace sdnc {

namespace {
thread_local bool g_grad_enabled = true;
thread_local std::function<void(TensorImpl&)> g_on_leaf_final;
std::atomic<uint64_t> g_sequence{0};

// Accumulates g into slot (allocating on first arrival).
void accumulate(Tensor& slot, const Tensor& g) {
  if (!slot.defined()) {
    slot = g;
  } else {
    NoGradGuard no_grad;
    slot = add(slot, g);
  }
}
}  // namespace

LeafGradientHook::LeafGradientHook(std::function<void(TensorImpl&)> on_final) : previous_(std::move(g_on_leaf_final)) {
  g_on_leaf_final = std::move(on_final);
}
LeafGradientHook::~LeafGradientHook() { g_on_leaf_final = std::move(previous_); }

bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }
EnableGradGuard::EnableGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = true; }
EnableGradGuard::~EnableGradGuard() { g_grad_enabled = previous_; }

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor* t : inputs)
    if (t && t->defined() && (t->requires_grad() || t->grad_fn())) return true;
  return false;
}

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && (t.requires_grad() || t.grad_fn())) return true;
  return false;
}

void attach_node(const std::shared_ptr<Node>& node, const std::vector<const Tensor*>& inputs,
                 const std::vector<Tensor*>& outputs) {
  node->sequence = g_sequence++;
  node->next.clear();
  for (const Tensor* t : inputs) {
    Edge e;
    if (t && t->defined()) {
      if (t->grad_fn()) {
        e.fn = t->grad_fn();
        e.output_nr = t->impl().output_nr;
      } else if (t->requires_grad()) {
        e.leaf = t->impl_ptr();
      }
    }
    node->next.push_back(std::move(e));
  }
  node->output_shapes.clear();
  for (size_t k = 0; k < outputs.size(); ++k) {
    TensorImpl& o = outputs[k]->impl();
    o.grad_fn = node;
    o.output_nr = static_cast<int>(k);
    o.requires_grad = true;
    node->output_shapes.push_back(o.shape);
    node->output_dtype = o.dtype;
  }
}

void run_backward(const Tensor& root) {
  if (root.numel() != 1)
    fail("backward", "needs a one-element tensor, got shape {}", shape_str(root.shape()));
  if (!root.grad_fn() && !root.requires_grad())
    fail("backward", "the tensor does not require grad and has no history");
  run_backward({root}, {Tensor::ones(root.shape(), root.dtype())});
}

void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads) {
  if (roots.size() != grads.size())
    fail("backward", "{} roots but {} gradients", roots.size(), grads.size());
  NoGradGuard no_grad;

  auto deliver_to_leaf = [](const char* from, TensorImpl& leaf, const Tensor& g) {
    if (g.shape() != leaf.shape)
      fail("backward", "{} gave a gradient of shape {} for a tensor of shape {}", from,
           shape_str(g.shape()), shape_str(leaf.shape));
    Tensor slot(leaf.grad);
    // A gradient nobody else holds (not even through a view) becomes the leaf's .grad as is;
    // one that may still be read elsewhere is copied first.
    bool sole_owner = g.impl_ptr().use_count() == 1 && g.impl().storage.use_count() == 1;
    accumulate(slot, slot.defined() || sole_owner ? g : g.clone());
    leaf.grad = slot.impl_ptr();
  };

  // Pending gradients per node and output; nodes run in decreasing creation order.
  auto later_first = [](Node* a, Node* b) { return a->sequence < b->sequence; };
  std::priority_queue<Node*, std::vector<Node*>, decltype(later_first)> ready(later_first);
  std::unordered_map<Node*, std::vector<Tensor>> pending;
  std::unordered_map<Node*, std::shared_ptr<Node>> keep_alive;

  // g undefined: schedules fn without a gradient (a collector's consumer, Node::runs_without_gradient).
  auto deliver = [&](const std::shared_ptr<Node>& fn, int output_nr, const Tensor& g) {
    if (g.defined() && g.shape() != fn->output_shapes[output_nr])
      fail("backward", "gradient of shape {} for output {} of {} of shape {}", shape_str(g.shape()),
           output_nr, fn->name(), shape_str(fn->output_shapes[output_nr]));
    auto [it, inserted] = pending.try_emplace(fn.get());
    if (inserted) {
      it->second.resize(fn->output_shapes.size());
      keep_alive[fn.get()] = fn;
      ready.push(fn.get());
    }
    if (g.defined()) accumulate(it->second[output_nr], g);
  };
  // With a LeafGradientHook: how many edges into each leaf are still to fire, counted over the
  // nodes this sweep reaches (every edge fires once, with or without a gradient).
  std::unordered_map<TensorImpl*, int64_t> leaf_edges_left;
  if (g_on_leaf_final) {
    std::vector<Node*> stack;
    std::unordered_set<Node*> seen;
    for (const Tensor& r : roots)
      if (r.grad_fn() && seen.insert(r.grad_fn().get()).second) stack.push_back(r.grad_fn().get());
    while (!stack.empty()) {
      Node* n = stack.back();
      stack.pop_back();
      for (const Edge& e : n->next) {
        if (e.leaf) leaf_edges_left[e.leaf.get()] += 1;
        if (e.fn && seen.insert(e.fn.get()).second) stack.push_back(e.fn.get());
      }
    }
  }
  auto edge_fired = [&](TensorImpl& leaf) {
    if (!g_on_leaf_final) return;
    auto it = leaf_edges_left.find(&leaf);
    if (it != leaf_edges_left.end() && --it->second == 0) g_on_leaf_final(leaf);
  };
  for (size_t k = 0; k < roots.size(); ++k) {
    const Tensor& r = roots[k];
    if (grads[k].shape() != r.shape())
      fail("backward", "gradient {} has shape {} for a root of shape {}", k, shape_str(grads[k].shape()),
           shape_str(r.shape()));
    if (r.grad_fn())
      deliver(r.grad_fn(), r.impl().output_nr, grads[k]);
    else if (r.requires_grad()) {
      deliver_to_leaf("backward", r.impl(), grads[k]);
      if (g_on_leaf_final && !leaf_edges_left.count(&r.impl())) g_on_leaf_final(r.impl());  // a root leaf, final now
    }
  }

  while (!ready.empty()) {
    Node* node = ready.top();
    ready.pop();
    if (node->released)
      fail("backward", "saved tensors of {} were freed by an earlier backward", node->name());
    std::vector<Tensor> grads_out = std::move(pending[node]);
    pending.erase(node);
    for (size_t k = 0; k < grads_out.size(); ++k)
      if (!grads_out[k].defined()) grads_out[k] = Tensor::zeros(node->output_shapes[k], node->output_dtype);

    std::vector<Tensor> grads_in = node->backward(grads_out);
    node->release();
    node->released = true;

    for (size_t i = 0; i < node->next.size(); ++i) {
      const Edge& e = node->next[i];
      const bool has_grad = i < grads_in.size() && grads_in[i].defined();
      if (e.fn && (has_grad || e.fn->runs_without_gradient)) deliver(e.fn, e.output_nr, has_grad ? grads_in[i] : Tensor());
      if (e.leaf) {
        if (has_grad) deliver_to_leaf(node->name(), *e.leaf, grads_in[i]);
        edge_fired(*e.leaf);
      }
    }
    keep_alive.erase(node);
  }
}

}  // namespace sdnc
