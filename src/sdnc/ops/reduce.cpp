#include "sdnc/ops/reduce.h"

#include "sdnc/autograd/node.h"
#include "sdnc/backend/cpu/reduce.h"
#include "sdnc/ops/checks.h"

namespace sdnc {

namespace {

struct AxisReduction {
  int axis;
  AxisSplit split;
  Shape out_shape;
};

AxisReduction plan_reduction(const char* op, const Tensor& x, int64_t axis, bool keepdim) {
  check_float_input(op, x, "x");
  AxisReduction r;
  r.axis = normalize_axis(op, axis, x.ndim());
  r.split = split_at_axis(x.shape(), r.axis);
  r.out_shape = x.shape();
  if (keepdim) {
    r.out_shape[r.axis] = 1;
  } else {
    r.out_shape.erase(r.out_shape.begin() + r.axis);
  }
  return r;
}

// sum and mean: dx = g / divisor broadcast along the axis (divisor 1 for sum, n for mean).
struct SumAxisNode : Node {
  const char* op;
  AxisSplit split;
  Shape x_shape;
  double divisor;
  SumAxisNode(const char* o, AxisSplit s, Shape xs, double d) : op(o), split(s), x_shape(std::move(xs)), divisor(d) {}
  const char* name() const override { return op; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    if (!needs_input_grad(0)) return {Tensor()};
    Tensor dx = Tensor::empty(x_shape, go[0].dtype());
    cpu::sum_axis_backward(go[0], split, divisor, dx);
    return {dx};
  }
};

Tensor sum_axis_impl(const char* op, const Tensor& x, int64_t axis, bool keepdim, bool average) {
  AxisReduction r = plan_reduction(op, x, axis, keepdim);
  double divisor = average ? static_cast<double>(r.split.n) : 1.0;
  Tensor out = Tensor::empty(r.out_shape, x.dtype());
  cpu::sum_axis(x, r.split, divisor, out);
  record<SumAxisNode>({&x}, out, op, r.split, x.shape(), divisor);
  return out;
}

// max: g goes to the saved arg-max (the first maximal element) of each reduced line.
struct MaxAxisNode : Node {
  AxisSplit split;
  Shape x_shape;
  Tensor arg;  // I64, [outer, inner] data (the output's shape)
  const char* name() const override { return "max"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    if (!needs_input_grad(0)) return {Tensor()};
    Tensor dx = Tensor::empty(x_shape, go[0].dtype());
    cpu::max_axis_backward(go[0], arg, split, dx);
    return {dx};
  }
  void release() override { arg = Tensor(); }
};

// sum_all and mean_all: dx = g / divisor everywhere.
struct SumAllNode : Node {
  const char* op;
  Shape x_shape;
  double divisor;
  SumAllNode(const char* o, Shape xs, double d) : op(o), x_shape(std::move(xs)), divisor(d) {}
  const char* name() const override { return op; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    if (!needs_input_grad(0)) return {Tensor()};
    Tensor dx = Tensor::empty(x_shape, go[0].dtype());
    cpu::sum_all_backward(go[0], divisor, dx);
    return {dx};
  }
};

Tensor sum_all_impl(const char* op, const Tensor& x, bool average) {
  check_float_input(op, x, "x");
  double divisor = average ? static_cast<double>(x.numel()) : 1.0;
  Tensor out = Tensor::empty({}, x.dtype());
  cpu::sum_all(x, divisor, out);
  record<SumAllNode>({&x}, out, op, x.shape(), divisor);
  return out;
}

}  // namespace

Tensor sum(const Tensor& x, int64_t axis, bool keepdim) { return sum_axis_impl("sum", x, axis, keepdim, false); }
Tensor mean(const Tensor& x, int64_t axis, bool keepdim) { return sum_axis_impl("mean", x, axis, keepdim, true); }

Tensor max(const Tensor& x, int64_t axis, bool keepdim) {
  AxisReduction r = plan_reduction("max", x, axis, keepdim);
  Tensor out = Tensor::empty(r.out_shape, x.dtype());
  Tensor arg = Tensor::empty(r.out_shape, DType::I64);
  cpu::max_axis(x, r.split, out, arg);
  if (auto node = record<MaxAxisNode>({&x}, out)) {
    node->split = r.split;
    node->x_shape = x.shape();
    node->arg = arg;
  }
  return out;
}

Tensor sum_all(const Tensor& x) { return sum_all_impl("sum_all", x, false); }
Tensor mean_all(const Tensor& x) { return sum_all_impl("mean_all", x, true); }

}  // namespace sdnc
