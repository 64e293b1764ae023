#include "sdnc/ops/shape.h"

#include <algorithm>
#include <limits>

#include "sdnc/autograd/node.h"
#include "sdnc/backend/cpu/shape.h"
#include "sdnc/ops/checks.h"

namespace sdnc {

namespace {

// Defined, on the CPU, F32/F64/I64, and not empty: the inputs the copying ops accept.
void check_data_input(const char* op, const Tensor& t, const char* arg) {
  check_defined(op, t, arg);
  check_cpu(op, t);
  if (!is_floating(t.dtype()) && t.dtype() != DType::I64)
    fail(op, "{} must be F32, F64 or I64, got {}", arg, dtype_name(t.dtype()));
  if (t.numel() == 0) fail(op, "{} is empty (shape {})", arg, shape_str(t.shape()));
}

// I64 and not empty.
void check_indices(const char* op, const Tensor& idx) {
  check_index_input(op, idx, "idx");
  if (idx.numel() == 0) fail(op, "idx is empty (shape {})", shape_str(idx.shape()));
}

// Every idx value in [0, n); names the first bad value and its flat position.
void check_index_range(const char* op, const Tensor& idx, int64_t n) {
  const int64_t* p = idx.data<int64_t>();
  for (int64_t j = 0, m = idx.numel(); j < m; ++j)
    if (p[j] < 0 || p[j] >= n) fail(op, "index {} out of range [0, {}) at position {}", p[j], n, j);
}

// ---- reshape ------------------------------------------------------------------------------

struct ReshapeNode : Node {
  Shape x_shape;
  const char* name() const override { return "reshape"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    if (!needs_input_grad(0)) return {Tensor()};
    return {go[0].view(x_shape)};  // a view: read-only use of the incoming gradient
  }
};

Shape infer_shape(const char* op, const Tensor& x, const Shape& shape) {
  if (shape.size() > kMaxDims) fail(op, "shape {} has more than {} dims", shape_str(shape), kMaxDims);
  Shape s = shape;
  int infer = -1;
  int64_t known = 1;
  for (size_t d = 0; d < s.size(); ++d) {
    if (s[d] == -1) {
      if (infer >= 0) fail(op, "only one -1 allowed in shape {}", shape_str(shape));
      infer = static_cast<int>(d);
    } else if (s[d] < 0) {
      fail(op, "invalid size {} in shape {}", s[d], shape_str(shape));
    } else if (__builtin_mul_overflow(known, s[d], &known)) {
      fail(op, "shape {} has too many elements", shape_str(shape));
    }
  }
  if (infer >= 0) {
    if (known == 0 || x.numel() % known != 0)
      fail(op, "cannot infer the -1 in {} for {} elements of shape {}", shape_str(shape), x.numel(),
           shape_str(x.shape()));
    s[infer] = x.numel() / known;
  } else if (known != x.numel()) {
    fail(op, "cannot reshape {} elements of shape {} into {}", x.numel(), shape_str(x.shape()), shape_str(shape));
  }
  return s;
}

// ---- transpose / permute --------------------------------------------------------------------

// dx = g permuted by the inverse permutation.
struct PermuteNode : Node {
  const char* op;
  std::vector<int> inverse;
  Shape x_shape;
  PermuteNode(const char* o, std::vector<int> inv, Shape xs) : op(o), inverse(std::move(inv)), x_shape(std::move(xs)) {}
  const char* name() const override { return op; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    if (!needs_input_grad(0)) return {Tensor()};
    Tensor dx = Tensor::empty(x_shape, go[0].dtype());
    cpu::permute(go[0], inverse, dx);
    return {dx};
  }
};

Tensor permute_impl(const char* op, const Tensor& x, const std::vector<int>& perm) {
  Shape os(perm.size());
  std::vector<int> inverse(perm.size());
  for (size_t d = 0; d < perm.size(); ++d) {
    os[d] = x.shape()[perm[d]];
    inverse[perm[d]] = static_cast<int>(d);
  }
  Tensor out = Tensor::empty(os, x.dtype());
  cpu::permute(x, perm, out);
  record<PermuteNode>({&x}, out, op, std::move(inverse), x.shape());
  return out;
}

// ---- slice / concat / split: copies of slabs along one axis -------------------------------

// dx = 0 with g copied into [start, start + len) along the axis.
struct SliceNode : Node {
  Shape x_shape;
  AxisSplit split;  // of x
  int64_t start = 0, len = 0;
  const char* name() const override { return "slice"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    if (!needs_input_grad(0)) return {Tensor()};
    Tensor dx = Tensor::zeros(x_shape, go[0].dtype());
    cpu::copy_slab(go[0], len, 0, dx, split.n, start, len, split.outer, split.inner);
    return {dx};
  }
};

// Input k's gradient is g's slab [offsets[k], offsets[k] + shapes[k][axis]).
struct ConcatNode : Node {
  std::vector<Shape> shapes;
  std::vector<int64_t> offsets;
  int axis = 0;
  int64_t outer = 1, total = 0, inner = 1;
  const char* name() const override { return "concat"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    std::vector<Tensor> dx(shapes.size());
    for (size_t k = 0; k < shapes.size(); ++k) {
      if (!needs_input_grad(k)) continue;
      dx[k] = Tensor::empty(shapes[k], go[0].dtype());
      int64_t n = shapes[k][axis];
      cpu::copy_slab(go[0], total, offsets[k], dx[k], n, 0, n, outer, inner);
    }
    return dx;
  }
};

// dx = the output gradients side by side (the engine passes zeros for unused outputs).
struct SplitNode : Node {
  Shape x_shape;
  AxisSplit split;  // of x
  std::vector<int64_t> sizes, offsets;
  const char* name() const override { return "split"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    if (!needs_input_grad(0)) return {Tensor()};
    Tensor dx = Tensor::empty(x_shape, go[0].dtype());
    for (size_t k = 0; k < sizes.size(); ++k)
      cpu::copy_slab(go[k], sizes[k], 0, dx, split.n, offsets[k], sizes[k], split.outer, split.inner);
    return {dx};
  }
};

// ---- index ops ------------------------------------------------------------------------------

// The index ops save a copy of idx (small next to the data): indices checked in the forward
// stay valid for the backward's scatter even if the caller reuses its idx buffer.

// index_select and embedding: dx = scatter-add of g over the selected rows.
struct IndexSelectNode : Node {
  const char* op;
  Tensor idx;
  AxisSplit split;  // of x (embedding: [1, V, D])
  Shape x_shape;
  IndexSelectNode(const char* o, AxisSplit s, Shape xs) : op(o), split(s), x_shape(std::move(xs)) {}
  const char* name() const override { return op; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    if (!needs_input_grad(0)) return {Tensor()};
    Tensor dx = Tensor::empty(x_shape, go[0].dtype());
    cpu::index_select_backward(go[0], split, idx, dx);
    return {dx};
  }
  void release() override { idx = Tensor(); }
};

struct GatherNode : Node {
  Tensor idx;
  int axis = 0;
  Shape x_shape;
  const char* name() const override { return "gather"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    if (!needs_input_grad(0)) return {Tensor()};
    Tensor dx = Tensor::empty(x_shape, go[0].dtype());
    cpu::gather_backward(go[0], axis, idx, dx);
    return {dx};
  }
  void release() override { idx = Tensor(); }
};

}  // namespace

Tensor reshape(const Tensor& x, const Shape& shape) {
  const char* op = "reshape";
  check_data_input(op, x, "x");
  Tensor out = x.view(infer_shape(op, x, shape));
  if (auto node = record<ReshapeNode>({&x}, out)) node->x_shape = x.shape();
  return out;
}

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  const char* op = "transpose";
  check_data_input(op, x, "x");
  int a = normalize_axis(op, d0, x.ndim()), b = normalize_axis(op, d1, x.ndim());
  std::vector<int> perm(x.ndim());
  for (int d = 0; d < x.ndim(); ++d) perm[d] = d;
  std::swap(perm[a], perm[b]);
  return permute_impl(op, x, perm);
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  const char* op = "permute";
  check_data_input(op, x, "x");
  if (static_cast<int64_t>(dims.size()) != x.ndim())
    fail(op, "dims {} has {} entries for a tensor of {} dims", shape_str(dims), dims.size(), x.ndim());
  std::vector<int> perm(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t d = 0; d < dims.size(); ++d) {
    perm[d] = normalize_axis(op, dims[d], x.ndim());
    if (seen[perm[d]]) fail(op, "dims {} repeat axis {}", shape_str(dims), perm[d]);
    seen[perm[d]] = true;
  }
  return permute_impl(op, x, perm);
}

Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end) {
  const char* op = "slice";
  check_data_input(op, x, "x");
  int a = normalize_axis(op, axis, x.ndim());
  AxisSplit sp = split_at_axis(x.shape(), a);
  auto resolve = [n = sp.n](int64_t v) {  // Python: negative counts from the end, then clamp
    if (v < 0) v += n;
    return std::clamp<int64_t>(v, 0, n);
  };
  int64_t s = resolve(start), e = resolve(end);
  if (e <= s)
    fail(op, "start {} end {} select nothing of axis {} (size {})", start, end, axis, sp.n);
  Shape os = x.shape();
  os[a] = e - s;
  Tensor out = Tensor::empty(os, x.dtype());
  cpu::copy_slab(x, sp.n, s, out, e - s, 0, e - s, sp.outer, sp.inner);
  if (auto node = record<SliceNode>({&x}, out)) {
    node->x_shape = x.shape();
    node->split = sp;
    node->start = s;
    node->len = e - s;
  }
  return out;
}

Tensor concat(const std::vector<Tensor>& tensors, int64_t axis) {
  const char* op = "concat";
  if (tensors.empty()) fail(op, "needs at least one tensor");
  for (size_t k = 0; k < tensors.size(); ++k)
    check_data_input(op, tensors[k], fmt::format("tensors[{}]", k).c_str());
  const Tensor& first = tensors[0];
  int a = normalize_axis(op, axis, first.ndim());
  Shape os = first.shape();
  os[a] = 0;
  for (size_t k = 0; k < tensors.size(); ++k) {
    const Tensor& t = tensors[k];
    if (t.dtype() != first.dtype())
      fail(op, "tensors[{}] is {} but tensors[0] is {}", k, dtype_name(t.dtype()), dtype_name(first.dtype()));
    bool same = t.ndim() == first.ndim();
    for (int d = 0; same && d < first.ndim(); ++d) same = d == a || t.shape()[d] == first.shape()[d];
    if (!same)
      fail(op, "tensors[{}] has shape {} but tensors[0] has {}; they may differ only in axis {}", k,
           shape_str(t.shape()), shape_str(first.shape()), a);
    os[a] += t.shape()[a];
  }
  AxisSplit sp = split_at_axis(os, a);
  Tensor out = Tensor::empty(os, first.dtype());
  std::vector<int64_t> offsets;
  int64_t offset = 0;
  for (const Tensor& t : tensors) {
    int64_t n = t.shape()[a];
    cpu::copy_slab(t, n, 0, out, sp.n, offset, n, sp.outer, sp.inner);
    offsets.push_back(offset);
    offset += n;
  }
  if (any_requires_grad(tensors)) {
    auto node = std::make_shared<ConcatNode>();
    std::vector<const Tensor*> inputs;
    for (const Tensor& t : tensors) {
      inputs.push_back(&t);
      node->shapes.push_back(t.shape());
    }
    node->offsets = std::move(offsets);
    node->axis = a;
    node->outer = sp.outer, node->total = sp.n, node->inner = sp.inner;
    attach_node(node, inputs, {&out});
  }
  return out;
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t axis) {
  const char* op = "split";
  check_data_input(op, x, "x");
  int a = normalize_axis(op, axis, x.ndim());
  AxisSplit sp = split_at_axis(x.shape(), a);
  if (sizes.empty()) fail(op, "sizes is empty");
  int64_t total = 0;
  for (size_t k = 0; k < sizes.size(); ++k) {
    if (sizes[k] <= 0) fail(op, "sizes[{}] is {}; every size must be positive", k, sizes[k]);
    total = sizes[k] > sp.n ? sp.n + 1 : total + sizes[k];  // stays small: no overflow
  }
  if (total != sp.n)
    fail(op, "sizes {} do not add up to the size {} of axis {} (shape {})", shape_str(sizes), sp.n, axis,
         shape_str(x.shape()));
  std::vector<Tensor> outs;
  std::vector<int64_t> offsets;
  int64_t offset = 0;
  for (int64_t n : sizes) {
    Shape os = x.shape();
    os[a] = n;
    Tensor out = Tensor::empty(os, x.dtype());
    cpu::copy_slab(x, sp.n, offset, out, n, 0, n, sp.outer, sp.inner);
    outs.push_back(out);
    offsets.push_back(offset);
    offset += n;
  }
  if (any_requires_grad({&x})) {
    auto node = std::make_shared<SplitNode>();
    node->x_shape = x.shape();
    node->split = sp;
    node->sizes = sizes;
    node->offsets = std::move(offsets);
    std::vector<Tensor*> outputs;
    for (Tensor& t : outs) outputs.push_back(&t);
    attach_node(node, {&x}, outputs);
  }
  return outs;
}

Tensor index_select(const Tensor& x, int64_t axis, const Tensor& idx) {
  const char* op = "index_select";
  check_data_input(op, x, "x");
  check_indices(op, idx);
  check_ndim(op, idx, 1, "idx");
  int a = normalize_axis(op, axis, x.ndim());
  AxisSplit sp = split_at_axis(x.shape(), a);
  check_index_range(op, idx, sp.n);
  Shape os = x.shape();
  os[a] = idx.numel();
  Tensor out = Tensor::empty(os, x.dtype());
  cpu::index_select(x, sp, idx, out);
  if (auto node = record<IndexSelectNode>({&x}, out, op, sp, x.shape())) node->idx = idx.clone();
  return out;
}

Tensor gather(const Tensor& x, int64_t axis, const Tensor& idx) {
  const char* op = "gather";
  check_data_input(op, x, "x");
  check_indices(op, idx);
  if (idx.ndim() != x.ndim())
    fail(op, "idx must have the {} dims of x {}, got shape {}", x.ndim(), shape_str(x.shape()),
         shape_str(idx.shape()));
  int a = normalize_axis(op, axis, x.ndim());
  for (int d = 0; d < x.ndim(); ++d)
    if (d != a && idx.shape()[d] > x.shape()[d])
      fail(op, "idx shape {} exceeds x shape {} in axis {}", shape_str(idx.shape()), shape_str(x.shape()), d);
  check_index_range(op, idx, x.shape()[a]);
  Tensor out = Tensor::empty(idx.shape(), x.dtype());
  cpu::gather(x, a, idx, out);
  if (auto node = record<GatherNode>({&x}, out)) {
    node->idx = idx.clone();
    node->axis = a;
    node->x_shape = x.shape();
  }
  return out;
}

Tensor embedding(const Tensor& weight, const Tensor& idx) {
  const char* op = "embedding";
  check_float_input(op, weight, "weight");
  check_ndim(op, weight, 2, "weight");
  check_indices(op, idx);
  if (idx.ndim() >= kMaxDims)
    fail(op, "idx shape {} leaves no room for the D axis (at most {} dims)", shape_str(idx.shape()), kMaxDims);
  const int64_t V = weight.size(0), D = weight.size(1);
  check_index_range(op, idx, V);
  Shape os = idx.shape();
  os.push_back(D);
  Tensor out = Tensor::empty(os, weight.dtype());
  AxisSplit sp{1, V, D};
  cpu::index_select(weight, sp, idx, out);
  if (auto node = record<IndexSelectNode>({&weight}, out, op, sp, weight.shape())) node->idx = idx.clone();
  return out;
}

}  // namespace sdnc
