#include "sdnc/ops/matmul.h"

#include "sdnc/autograd/grad_mode.h"
#include "sdnc/autograd/node.h"
#include "sdnc/backend/cpu/gemm.h"
#include "sdnc/backend/cpu/packed_gemm.h"
#include "sdnc/ops/checks.h"
#include "sdnc/ops/elementwise.h"

namespace sdnc {

namespace {

// How a (possibly batched) product is laid out in memory.
struct MatmulPlan {
  int64_t batch, M, K, N;
  bool a_shared, b_shared;  // one matrix reused by every batch index
  Shape out_shape;
};

MatmulPlan plan_matmul(const char* op, const Tensor& a, const Tensor& b) {
  check_float_input(op, a, "a");
  check_float_input(op, b, "b");
  check_same_dtype(op, a, b);
  if (a.ndim() < 2 || b.ndim() < 2)
    fail(op, "needs matrices (>= 2 dims), got {} and {}", shape_str(a.shape()), shape_str(b.shape()));
  MatmulPlan p{};
  p.M = a.size(-2), p.K = a.size(-1), p.N = b.size(-1);
  if (b.size(-2) != p.K)
    fail(op, "inner sizes differ: a {} has K={}, b {} has K={}", shape_str(a.shape()), p.K,
         shape_str(b.shape()), b.size(-2));
  Shape lead_a(a.shape().begin(), a.shape().end() - 2), lead_b(b.shape().begin(), b.shape().end() - 2);
  p.b_shared = lead_b.empty();
  p.a_shared = lead_a.empty() && !lead_b.empty();
  if (!p.a_shared && !p.b_shared && lead_a != lead_b)
    fail(op, "batch dims differ: a {} vs b {}", shape_str(a.shape()), shape_str(b.shape()));
  const Shape& lead = p.a_shared ? lead_b : lead_a;
  p.batch = shape_numel(lead);
  p.out_shape = lead;
  p.out_shape.push_back(p.M);
  p.out_shape.push_back(p.N);
  return p;
}

// C = op(A)·op(B) over the plan's batch; `accumulate` adds into C.
template <class T>
void batched_gemm(const MatmulPlan& p, bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T* A,
                  int64_t strideA, int64_t lda, const T* B, int64_t strideB, int64_t ldb, T* C,
                  int64_t strideC, bool accumulate) {
  for (int64_t i = 0; i < p.batch; ++i)
    cpu::gemm(ta, tb, M, N, K, T(1), A + i * strideA, lda, B + i * strideB, ldb, T(accumulate ? 1 : 0),
              C + i * strideC, N);
}

void matmul_forward(const MatmulPlan& p, const Tensor& a, const Tensor& b, Tensor& out) {
  dispatch_floating(a.dtype(), "matmul", [&](auto tag) {
    using T = decltype(tag);
    if (p.b_shared) {  // fold the batch into M: one large GEMM
      cpu::gemm(false, false, p.batch * p.M, p.N, p.K, T(1), a.data<T>(), p.K, b.data<T>(), p.N, T(0),
                out.data<T>(), p.N);
      return;
    }
    batched_gemm<T>(p, false, false, p.M, p.N, p.K, a.data<T>(), p.a_shared ? 0 : p.M * p.K, p.K,
                    b.data<T>(), p.K * p.N, p.N, out.data<T>(), p.M * p.N, false);
  });
}

// dA = dC·Bᵀ, dB = Aᵀ·dC; a shared operand sums its gradient over the batch.
struct MatmulNode : Node {
  MatmulPlan plan;
  Tensor a, b;
  Shape a_shape, b_shape;
  const char* name() const override { return "matmul"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    const Tensor& g = go[0];
    const MatmulPlan& p = plan;
    Tensor ga, gb;
    dispatch_floating(g.dtype(), "matmul", [&](auto tag) {
      using T = decltype(tag);
      if (needs_input_grad(0)) {
        ga = Tensor::empty(a_shape, g.dtype());
        if (p.b_shared) {
          cpu::gemm(false, true, p.batch * p.M, p.K, p.N, T(1), g.data<T>(), p.N, b.data<T>(), p.N, T(0),
                    ga.data<T>(), p.K);
        } else {
          // Each batch writes its own dA, or (a shared) accumulates into one.
          for (int64_t i = 0; i < p.batch; ++i)
            cpu::gemm(false, true, p.M, p.K, p.N, T(1), g.data<T>() + i * p.M * p.N, p.N,
                      b.data<T>() + i * p.K * p.N, p.N, T(p.a_shared && i > 0 ? 1 : 0),
                      ga.data<T>() + (p.a_shared ? 0 : i * p.M * p.K), p.K);
        }
      }
      if (needs_input_grad(1)) {
        gb = Tensor::empty(b_shape, g.dtype());
        if (p.b_shared) {
          cpu::gemm(true, false, p.K, p.N, p.batch * p.M, T(1), a.data<T>(), p.K, g.data<T>(), p.N, T(0),
                    gb.data<T>(), p.N);
        } else {
          for (int64_t i = 0; i < p.batch; ++i)
            cpu::gemm(true, false, p.K, p.N, p.M, T(1), a.data<T>() + (p.a_shared ? 0 : i * p.M * p.K), p.K,
                      g.data<T>() + i * p.M * p.N, p.N, T(0), gb.data<T>() + i * p.K * p.N, p.N);
        }
      }
    });
    return {ga, gb};
  }
  void release() override { a = b = Tensor(); }
};

Tensor matmul_impl(const char* op, const Tensor& a, const Tensor& b) {
  MatmulPlan p = plan_matmul(op, a, b);
  Tensor out = Tensor::empty(p.out_shape, a.dtype());
  matmul_forward(p, a, b, out);
  if (auto node = record<MatmulNode>({&a, &b}, out)) {
    node->plan = p;
    node->a_shape = a.shape();
    node->b_shape = b.shape();
    // Each operand is needed only for the other's gradient.
    if (node->needs_input_grad(1)) node->a = a.detach();
    if (node->needs_input_grad(0)) node->b = b.detach();
  }
  return out;
}

// y = x·Wᵀ + b as one GEMM over the flattened leading dims.
struct LinearNode : Node {
  Tensor x, weight;
  int64_t rows, in, out;
  bool has_bias;
  const char* name() const override { return "linear"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    const Tensor& g = go[0];  // [rows, out]
    Tensor gx, gw, gbias;
    dispatch_floating(g.dtype(), "linear", [&](auto tag) {
      using T = decltype(tag);
      if (needs_input_grad(0)) {  // dx = g · W
        gx = Tensor::empty(x.shape(), g.dtype());
        cpu::gemm(false, false, rows, in, out, T(1), g.data<T>(), out, weight.data<T>(), in, T(0),
                  gx.data<T>(), in);
      }
      if (needs_input_grad(1)) {  // dW = gᵀ · x
        gw = Tensor::empty(weight.shape(), g.dtype());
        cpu::gemm(true, false, out, in, rows, T(1), g.data<T>(), out, x.data<T>(), in, T(0), gw.data<T>(), in);
      }
    });
    if (has_bias && needs_input_grad(2)) gbias = sum_to_shape(g, {out});
    return {gx, gw, gbias};
  }
  void release() override { x = weight = Tensor(); }
};

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) { return matmul_impl("matmul", a, b); }

Tensor bmm(const Tensor& a, const Tensor& b) {
  check_defined("bmm", a, "a");
  check_defined("bmm", b, "b");
  check_ndim("bmm", a, 3, "a");
  check_ndim("bmm", b, 3, "b");
  if (a.size(0) != b.size(0)) fail("bmm", "batch sizes differ: {} vs {}", a.size(0), b.size(0));
  return matmul_impl("bmm", a, b);
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  const char* op = "linear";
  check_float_input(op, x, "x");
  check_float_input(op, weight, "weight");
  check_same_dtype(op, x, weight);
  check_ndim(op, weight, 2, "weight");
  int64_t in = weight.size(1), out_features = weight.size(0);
  if (x.size(-1) != in)
    fail(op, "x {} has {} features, weight {} expects {}", shape_str(x.shape()), x.size(-1),
         shape_str(weight.shape()), in);
  bool has_bias = bias.defined();
  if (has_bias) {
    check_float_input(op, bias, "bias");
    check_same_dtype(op, x, bias);
    if (bias.shape() != Shape{out_features})
      fail(op, "bias shape {} != [{}]", shape_str(bias.shape()), out_features);
  }
  Shape out_shape = x.shape();
  out_shape.back() = out_features;
  int64_t rows = x.numel() / in;
  Tensor y = Tensor::empty(out_shape, x.dtype());
  dispatch_floating(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    T* py = y.data<T>();
    if (has_bias) {  // start from the bias, then accumulate the product
      const T* pb = bias.data<T>();
      for (int64_t r = 0; r < rows; ++r) std::copy(pb, pb + out_features, py + r * out_features);
    }
    cpu::gemm(false, true, rows, out_features, in, T(1), x.data<T>(), in, weight.data<T>(), in,
              T(has_bias ? 1 : 0), py, out_features);
  });
  std::initializer_list<const Tensor*> inputs = {&x, &weight, &bias};
  if (auto node = record<LinearNode>(inputs, y)) {
    node->x = x.detach();
    node->weight = weight.detach();
    node->rows = rows, node->in = in, node->out = out_features;
    node->has_bias = has_bias;
  }
  return y;
}

Tensor packed_linear(const Tensor& x, const cpu::PackedWeight& weight, const Tensor& bias) {
  const char* op = "packed_linear";
  if (x.dtype() != DType::F32) fail(op, "x is {}; the packed product is F32", dtype_name(x.dtype()));
  if (x.ndim() < 1 || x.size(-1) != weight.K)
    fail(op, "x {} must end in the packed weight's {} inputs", shape_str(x.shape()), weight.K);
  if (grad_enabled() && x.requires_grad()) fail(op, "x records gradients; the packed product is for inference");
  const int64_t rows = x.numel() / weight.K;
  if (rows > kPackedRows) fail(op, "x {} has {} rows; the packed product takes at most {}", shape_str(x.shape()), rows, kPackedRows);
  if (bias.defined() && (bias.dtype() != DType::F32 || bias.shape() != Shape{weight.N}))
    fail(op, "bias {} must be F32 [{}]", shape_str(bias.shape()), weight.N);
  Shape out_shape = x.shape();
  out_shape.back() = weight.N;
  Tensor y = Tensor::empty(out_shape, DType::F32);
  cpu::packed_gemm(rows, x.data<float>(), weight.K, weight, bias.defined() ? bias.data<float>() : nullptr,
                   y.data<float>(), weight.N);
  return y;
}

}  // namespace sdnc
