// Each fused op (layer_norm, softmax, log_softmax, cross_entropy, sigmoid_bce_with_logits,
// lstm_cell, dropout, cumprod, prod) against its plain reference decomposition, forward and
// backward, on every case of its family in the op table (tests/ops/cases), in F64 and F32.
//
// The references are built from simple differentiable ops only: the engine's add, sub, mul,
// div, add_scalar, mul_scalar, matmul and linear, plus four small private helpers defined
// here (an elementwise map with its derivative, a reshape, a swap of an axis with the last
// one, and a constant row max). Their gradients come from autograd through those simple ops,
// so they check each hand-written backward independently of finite differences.
// Sums over a dim are products with a ones vector; column selection is a product with a
// unit vector. When ops/unary, ops/reduce and ops/shape exist, these helpers can be replaced
// by them and the references can move next to the fused ops as their fallbacks.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>

#include "harness.h"

namespace sdnc::test {
namespace {

// ---- private helper ops (references only) ----------------------------------------------

using Fn = std::function<double(double)>;

// y = f(x) elementwise; dy/dx = df(x).
struct MapNode : Node {
  Tensor x;
  Fn df;
  const char* name() const override { return "ref_map"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    auto g = go[0].to_doubles(), v = x.to_doubles();
    for (size_t i = 0; i < g.size(); ++i) g[i] *= df(v[i]);
    return {Tensor::from_vector(g, x.shape(), x.dtype())};
  }
  void release() override { x = Tensor(); }
};
Tensor map_ref(const Tensor& x, const Fn& f, const Fn& df) {
  auto v = x.to_doubles();
  for (double& e : v) e = f(e);
  Tensor y = Tensor::from_vector(v, x.shape(), x.dtype());
  if (auto node = record<MapNode>({&x}, y)) node->x = x.detach(), node->df = df;
  return y;
}
Tensor exp_ref(const Tensor& x) {
  return map_ref(x, [](double v) { return std::exp(v); }, [](double v) { return std::exp(v); });
}
Tensor log_ref(const Tensor& x) {
  return map_ref(x, [](double v) { return std::log(v); }, [](double v) { return 1.0 / v; });
}
Tensor sigmoid_ref(const Tensor& x) {
  auto s = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  return map_ref(x, s, [s](double v) { return s(v) * (1.0 - s(v)); });
}
Tensor tanh_ref(const Tensor& x) {
  return map_ref(x, [](double v) { return std::tanh(v); },
                 [](double v) { return 1.0 - std::tanh(v) * std::tanh(v); });
}

// Same values, new shape.
struct ReshapeNode : Node {
  Shape in_shape;
  const char* name() const override { return "ref_reshape"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override { return {go[0].clone().view(in_shape)}; }
};
Tensor reshape_ref(const Tensor& x, const Shape& shape) {
  Tensor y = x.clone().view(shape);
  if (auto node = record<ReshapeNode>({&x}, y)) node->in_shape = x.shape();
  return y;
}

// Swaps axis a with the last axis (its own inverse).
Tensor swap_last_raw(const Tensor& x, int a) {
  int last = static_cast<int>(x.ndim()) - 1;
  if (a == last) return x.clone();
  Shape s = x.shape();
  std::swap(s[a], s[last]);
  auto v = x.to_doubles();
  std::vector<double> out(v.size());
  int nd = static_cast<int>(s.size());
  std::vector<int64_t> idx(nd, 0);
  for (size_t i = 0; i < v.size(); ++i) {  // idx walks x's shape; write at the swapped index
    std::vector<int64_t> j = idx;
    std::swap(j[a], j[last]);
    int64_t flat = 0;
    for (int d = 0; d < nd; ++d) flat = flat * s[d] + j[d];
    out[flat] = v[i];
    for (int d = nd - 1; d >= 0; --d) {
      if (++idx[d] < x.shape()[d]) break;
      idx[d] = 0;
    }
  }
  return Tensor::from_vector(out, s, x.dtype());
}
struct SwapNode : Node {
  int axis;
  explicit SwapNode(int a) : axis(a) {}
  const char* name() const override { return "ref_swap_last"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override { return {swap_last_raw(go[0], axis)}; }
};
Tensor swap_last_ref(const Tensor& x, int a) {
  Tensor y = swap_last_raw(x, a);
  record<SwapNode>({&x}, y, a);
  return y;
}

Tensor ones(const Shape& s, DType dt) { return Tensor::ones(s, dt); }

// x [R, D] → Σ over D as [R, 1].
Tensor sum_last_ref(const Tensor& x) { return matmul(x, ones({x.size(-1), 1}, x.dtype())); }

// Σ of all elements as a 0-dim tensor.
Tensor sum_all_ref(const Tensor& x) {
  Tensor flat = reshape_ref(x, {1, x.numel()});
  return reshape_ref(matmul(flat, ones({x.numel(), 1}, x.dtype())), {});
}

// Row max of x [R, D] as a constant [R, 1] (softmax is invariant to it, so no gradient).
Tensor row_max_const(const Tensor& x) {
  int64_t D = x.size(-1), R = x.numel() / D;
  auto v = x.to_doubles();
  std::vector<double> m(R, -INFINITY);
  for (int64_t r = 0; r < R; ++r)
    for (int64_t j = 0; j < D; ++j) m[r] = std::max(m[r], v[r * D + j]);
  return Tensor::from_vector(m, {R, 1}, x.dtype());
}

// Unit column e_k [n, 1] (select column k with x·e_k) or row e_kᵀ [1, n] (place a column).
Tensor unit(int64_t n, int64_t k, bool column, DType dt) {
  std::vector<double> v(n, 0.0);
  v[k] = 1.0;
  return Tensor::from_vector(v, column ? Shape{n, 1} : Shape{1, n}, dt);
}

// Moves `axis` last and flattens the rest: x → [R, n]; undo() restores the original layout.
struct AxisRows {
  int axis;
  Shape swapped;
  Tensor rows;
  AxisRows(const Tensor& x, int64_t ax) : axis(normalize_axis("ref", ax, x.ndim())) {
    Tensor s = swap_last_ref(x, axis);
    swapped = s.shape();
    rows = reshape_ref(s, {s.numel() / s.size(-1), s.size(-1)});
  }
  Tensor undo(const Tensor& y) const { return swap_last_ref(reshape_ref(y, swapped), axis); }
};

// ---- reference decompositions -----------------------------------------------------------

Tensor layer_norm_reference(const Tensor& x, const Tensor& w, const Tensor& b, double eps) {
  int64_t D = x.size(-1);
  Tensor x2 = reshape_ref(x, {x.numel() / D, D});
  Tensor mean = mul_scalar(sum_last_ref(x2), 1.0 / D);
  Tensor xc = sub(x2, mean);
  Tensor var = mul_scalar(sum_last_ref(mul(xc, xc)), 1.0 / D);
  Tensor rstd = map_ref(add_scalar(var, eps), [](double v) { return 1.0 / std::sqrt(v); },
                        [](double v) { return -0.5 * std::pow(v, -1.5); });
  Tensor y = mul(xc, rstd);
  if (w.defined()) y = mul(y, w);
  if (b.defined()) y = add(y, b);
  return reshape_ref(y, x.shape());
}

Tensor softmax_reference(const Tensor& x, int64_t axis, bool log) {
  AxisRows r(x, axis);
  Tensor z = sub(r.rows, row_max_const(r.rows));
  Tensor e = exp_ref(z);
  Tensor y = log ? sub(z, log_ref(sum_last_ref(e))) : div(e, sum_last_ref(e));
  return r.undo(y);
}

Tensor cross_entropy_reference(const Tensor& logits, const std::vector<int64_t>& targets, int64_t ignore_index) {
  int64_t C = logits.size(-1), R = logits.numel() / C;
  Tensor logp = softmax_reference(reshape_ref(logits, {R, C}), -1, true);
  std::vector<double> onehot(R * C, 0.0);
  int64_t kept = 0;
  for (int64_t r = 0; r < R; ++r)
    if (targets[r] != ignore_index) onehot[r * C + targets[r]] = 1.0, ++kept;
  Tensor picked = sum_all_ref(mul(logp, Tensor::from_vector(onehot, {R, C}, logits.dtype())));
  return mul_scalar(picked, kept > 0 ? -1.0 / kept : 0.0);
}

Tensor bce_reference(const Tensor& x, const Tensor& t, const Tensor& mask, const std::string& reduction) {
  // max(x, 0) - x·t + log1p(exp(-|x|))
  Tensor relu = map_ref(x, [](double v) { return std::max(v, 0.0); }, [](double v) { return v > 0 ? 1.0 : 0.0; });
  Tensor soft = map_ref(x, [](double v) { return std::log1p(std::exp(-std::fabs(v))); },
                        [](double v) {
                          double e = std::exp(-std::fabs(v));
                          return (v > 0 ? -1.0 : 1.0) * e / (1.0 + e);
                        });
  Tensor l = add(sub(relu, mul(x, t)), soft);
  if (mask.defined()) {
    Shape ms = mask.shape();
    ms.resize(x.ndim(), 1);  // [B, T] → [B, T, 1]: broadcasts over the trailing dims
    l = mul(l, reshape_ref(mask, ms));
  }
  Tensor s = sum_all_ref(l);
  return reduction == "mean" ? mul_scalar(s, 1.0 / x.numel()) : s;
}

std::vector<Tensor> lstm_cell_reference(const Tensor& x, const Tensor& h, const Tensor& c, const Tensor& w_ih,
                                        const Tensor& w_hh, const Tensor& bias, double forget_bias) {
  int64_t Hd = h.size(1);
  Tensor gates = add(linear(x, w_ih, bias), linear(h, w_hh));
  auto chunk = [&](int64_t k) {  // gates [B, 4Hd] · E_k [4Hd, Hd], E_k selecting block k
    std::vector<double> e(4 * Hd * Hd, 0.0);
    for (int64_t j = 0; j < Hd; ++j) e[(k * Hd + j) * Hd + j] = 1.0;
    return matmul(gates, Tensor::from_vector(e, {4 * Hd, Hd}, x.dtype()));
  };
  Tensor i = sigmoid_ref(chunk(0)), f = sigmoid_ref(add_scalar(chunk(1), forget_bias));
  Tensor g = tanh_ref(chunk(2)), o = sigmoid_ref(chunk(3));
  Tensor c_next = add(mul(f, c), mul(i, g));
  return {mul(o, tanh_ref(c_next)), c_next};
}

Tensor dropout_reference(const Tensor& x, double p, bool training, uint64_t seed) {
  if (!training || p == 0.0) return x;
  Tensor mask = Tensor::zeros(x.shape(), x.dtype());
  if (p < 1.0) Generator(seed).fill_bernoulli(mask, 1.0 - p);
  return mul_scalar(mul(x, mask), p < 1.0 ? 1.0 / (1.0 - p) : 0.0);
}

// Running products of the columns of x [R, n], placed back with unit rows (no division).
Tensor cumprod_reference(const Tensor& x, int64_t axis, bool exclusive) {
  AxisRows r(x, axis);
  int64_t n = r.rows.size(-1);
  DType dt = x.dtype();
  Tensor running = exclusive ? ones({r.rows.size(0), 1}, dt) : matmul(r.rows, unit(n, 0, true, dt));
  Tensor y = matmul(running, unit(n, 0, false, dt));
  for (int64_t k = 1; k < n; ++k) {
    running = mul(running, matmul(r.rows, unit(n, exclusive ? k - 1 : k, true, dt)));
    y = add(y, matmul(running, unit(n, k, false, dt)));
  }
  return r.undo(y);
}

Tensor prod_reference(const Tensor& x, int64_t axis, bool keepdim) {
  AxisRows r(x, axis);
  int64_t n = r.rows.size(-1);
  Tensor running = matmul(r.rows, unit(n, 0, true, x.dtype()));
  for (int64_t k = 1; k < n; ++k) running = mul(running, matmul(r.rows, unit(n, k, true, x.dtype())));
  Shape out = x.shape();
  if (keepdim) out[r.axis] = 1;
  else out.erase(out.begin() + r.axis);
  return reshape_ref(running, out);
}

// ---- the reference invokers, with the op table's input and param conventions -----------

using RefFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&, const json&)>;

const std::map<std::string, RefFn>& references() {
  static const std::map<std::string, RefFn> refs = {
      {"layer_norm",
       [](const std::vector<Tensor>& in, const json& p) {
         std::string affine = p.value("affine", in.size() == 3 ? "both" : in.size() == 1 ? "none" : "weight");
         Tensor w, b;
         if (affine == "both") w = in[1], b = in[2];
         else if (affine == "weight") w = in[1];
         else if (affine == "bias") b = in[1];
         return std::vector<Tensor>{layer_norm_reference(in[0], w, b, p.value("eps", 1e-5))};
       }},
      {"softmax",
       [](const std::vector<Tensor>& in, const json& p) {
         return std::vector<Tensor>{softmax_reference(in[0], p.value("axis", int64_t{-1}), false)};
       }},
      {"log_softmax",
       [](const std::vector<Tensor>& in, const json& p) {
         return std::vector<Tensor>{softmax_reference(in[0], p.value("axis", int64_t{-1}), true)};
       }},
      {"cross_entropy",
       [](const std::vector<Tensor>& in, const json& p) {
         int64_t ii = p.value("ignore_index", int64_t{-100});
         std::vector<int64_t> t;
         if (is_floating(in[1].dtype())) {
           for (double v : in[1].to_doubles()) t.push_back(static_cast<int64_t>(v));
         } else {
           t = in[1].to_indices();
         }
         for (int64_t pos : p.value("ignore_at", std::vector<int64_t>{})) t.at(pos) = ii;
         return std::vector<Tensor>{cross_entropy_reference(in[0], t, ii)};
       }},
      {"sigmoid_bce_with_logits",
       [](const std::vector<Tensor>& in, const json& p) {
         return std::vector<Tensor>{bce_reference(in[0], in[1], in.size() > 2 ? in[2] : Tensor(),
                                                  p.value("reduction", std::string("mean")))};
       }},
      {"lstm_cell",
       [](const std::vector<Tensor>& in, const json& p) {
         return lstm_cell_reference(in[0], in[1], in[2], in[3], in[4], in.size() > 5 ? in[5] : Tensor(),
                                    p.value("forget_bias", 0.0));
       }},
      {"dropout",
       [](const std::vector<Tensor>& in, const json& p) {
         return std::vector<Tensor>{dropout_reference(in[0], p.at("p").get<double>(), p.value("training", true),
                                                      p.value("seed", uint64_t{0}))};
       }},
      {"cumprod",
       [](const std::vector<Tensor>& in, const json& p) {
         return std::vector<Tensor>{
             cumprod_reference(in[0], p.at("axis").get<int64_t>(), p.value("exclusive", false))};
       }},
      {"prod",
       [](const std::vector<Tensor>& in, const json& p) {
         return std::vector<Tensor>{prod_reference(in[0], p.at("axis").get<int64_t>(), p.value("keepdim", false))};
       }},
  };
  return refs;
}

// ---- the comparison -----------------------------------------------------------------------

struct RunResult {
  std::vector<Tensor> outs, grads;  // grads: one per differentiable input (else undefined)
};

// Runs f on fresh copies of inputs (converted to dtype), then backward with cotangents.
RunResult run_with_backward(const OpCase& c, const std::vector<Tensor>& base, DType dtype,
        const std::function<std::vector<Tensor>(const std::vector<Tensor>&)>& f, uint64_t cot_seed) {
  std::vector<Tensor> in;
  for (size_t i = 0; i < base.size(); ++i) {
    Tensor t = is_floating(base[i].dtype()) ? base[i].to(dtype) : base[i];
    if (c.inputs[i].grad) t.requires_grad_(true);
    in.push_back(t);
  }
  RunResult r;
  r.outs = f(in);
  std::vector<Tensor> cot;
  Generator gen(cot_seed);
  for (auto& o : r.outs) {
    Tensor t = Tensor::empty(o.shape(), DType::F64);
    gen.fill_normal(t, 0.0, 1.0);
    cot.push_back(t.to(dtype));
  }
  std::vector<Tensor> roots, grads;
  for (size_t k = 0; k < r.outs.size(); ++k)
    if (r.outs[k].grad_fn() || r.outs[k].requires_grad()) roots.push_back(r.outs[k]), grads.push_back(cot[k]);
  if (!roots.empty()) run_backward(roots, grads);
  for (size_t i = 0; i < in.size(); ++i) r.grads.push_back(c.inputs[i].grad ? in[i].grad() : Tensor());
  return r;
}

// Values compared flat (the registry hands a 0-dim loss to the table as [1]).
void expect_close(const std::string& what, const Tensor& got, const Tensor& ref, double atol, double rtol) {
  ASSERT_TRUE(got.defined()) << what << ": fused result undefined";
  ASSERT_TRUE(ref.defined()) << what << ": reference result undefined";
  ASSERT_EQ(got.numel(), ref.numel()) << what;
  Tensor g = got.view({got.numel()}), e = ref.view({ref.numel()});
  Closeness cl = compare(g, e, atol, rtol);
  std::printf("[reference] %-44s max abs %.2e  max rel %.2e\n", what.c_str(), cl.max_abs, cl.max_rel);
  EXPECT_TRUE(cl.ok) << what << ": worst element " << cl.worst << " fused " << g.to_doubles()[cl.worst]
                     << " reference " << e.to_doubles()[cl.worst];
}

class FusedVsReference : public ::testing::TestWithParam<OpCase> {};

TEST_P(FusedVsReference, ForwardAndBackwardAgree) {
  const OpCase& c = GetParam();
  const RefFn& ref = references().at(c.op);
  std::vector<Tensor> base = make_inputs(c);
  for (DType dtype : {DType::F64, DType::F32}) {
    bool f32 = dtype == DType::F32;
    std::string tag = c.name + (f32 ? " f32" : " f64");
    // F64: both sides are exact to rounding. F32: the reference accumulates in different
    // order (and its helpers round through double), so use the op table's F32 tolerances.
    double fa = f32 ? c.fwd_atol_f32 : 1e-12, fr = f32 ? c.fwd_rtol_f32 : 1e-10;
    double ga = f32 ? c.grad_atol_f32 : 1e-12, gr = f32 ? c.grad_rtol_f32 : 1e-10;
    RunResult fused = run_with_backward(c, base, dtype, [&](const std::vector<Tensor>& in) { return run_case(c, in); }, 99);
    RunResult plain = run_with_backward(c, base, dtype, [&](const std::vector<Tensor>& in) { return ref(in, c.params); }, 99);
    ASSERT_EQ(fused.outs.size(), plain.outs.size()) << tag;
    for (size_t k = 0; k < fused.outs.size(); ++k) {
      EXPECT_EQ(fused.outs[k].dtype(), dtype) << tag;
      expect_close(tag + " out." + std::to_string(k), fused.outs[k], plain.outs[k], fa, fr);
    }
    for (size_t i = 0; i < base.size(); ++i) {
      if (!c.inputs[i].grad) continue;
      if (!plain.grads[i].defined()) {  // the reference output is constant in this input
        if (fused.grads[i].defined())    // (e.g. exclusive cumprod of length 1): zeros then
          for (double e : fused.grads[i].to_doubles()) EXPECT_EQ(e, 0.0) << tag << " grad." << i;
        continue;
      }
      expect_close(tag + " grad." + std::to_string(i), fused.grads[i], plain.grads[i], ga, gr);
    }
  }
}

std::vector<OpCase> fused_cases() {
  std::vector<OpCase> out;
  for (const OpCase& c : all_cases())
    if (references().count(c.op)) out.push_back(c);
  return out;
}

INSTANTIATE_TEST_SUITE_P(Fused, FusedVsReference, ::testing::ValuesIn(fused_cases()),
                         [](const auto& info) { return info.param.name; });

// ---- targeted checks beyond the table --------------------------------------------------

Tensor randn(const Shape& s, uint64_t seed, double scale = 1.0) {
  Tensor t = Tensor::empty(s, DType::F64);
  Generator(seed).fill_normal(t, 0.0, scale);
  return t;
}

TEST(FusedReference, LossesAreZeroDim) {
  Tensor logits = randn({2, 3, 4}, 1);
  Tensor targets = Tensor::from_indices({0, 1, 2, 3, -100, 1}, {2, 3});
  EXPECT_EQ(cross_entropy(logits, targets).ndim(), 0);
  EXPECT_EQ(sigmoid_bce_with_logits(logits, randn({2, 3, 4}, 2)).ndim(), 0);
  EXPECT_EQ(prod(randn({5}, 3), 0).ndim(), 0);
}

TEST(FusedReference, LstmGradientFromOneOutputOnly) {
  // Only h_next (or only c_next) reaches the loss: the engine hands zeros for the other.
  std::vector<Tensor> base = {randn({3, 4}, 1), randn({3, 5}, 2), randn({3, 5}, 3), randn({20, 4}, 4, 0.5),
                              randn({20, 5}, 5, 0.5), randn({20}, 6)};
  for (int which = 0; which < 2; ++which) {
    auto grads_of = [&](bool fused) {
      std::vector<Tensor> in;
      for (auto& t : base) in.push_back(t.clone().requires_grad_(true));
      auto outs = fused ? lstm_cell(in[0], in[1], in[2], in[3], in[4], in[5], 1.0)
                        : lstm_cell_reference(in[0], in[1], in[2], in[3], in[4], in[5], 1.0);
      sum_all_ref(mul(outs[which], outs[which])).backward();
      std::vector<Tensor> g;
      for (auto& t : in) g.push_back(t.grad());
      return g;
    };
    auto a = grads_of(true), b = grads_of(false);
    for (size_t i = 0; i < a.size(); ++i)
      expect_close("lstm_cell only output " + std::to_string(which) + " grad." + std::to_string(i), a[i], b[i],
                   1e-12, 1e-10);
  }
}

TEST(FusedReference, HugeLogitsStayFinite) {
  // ±1e3 and beyond: no NaN or Inf in values or gradients (F32, the engine's type).
  std::vector<double> v = {1e3, -1e3, 0.5, 3e4, -3e4, 1e3};
  Tensor x = Tensor::from_vector(v, {2, 3}, DType::F32).requires_grad_();
  Tensor t = Tensor::from_vector(std::vector<double>{1, 0, 1, 0, 1, 0.5}, {2, 3}, DType::F32).requires_grad_();
  Tensor loss = add(add(cross_entropy(x, Tensor::from_indices({1, 0}, {2})), sigmoid_bce_with_logits(x, t)),
                    sum_all_ref(add(softmax(x), log_softmax(x, 0))));
  loss.backward();
  for (const Tensor& r : {loss, x.grad(), t.grad()})
    for (double e : r.to_doubles()) EXPECT_TRUE(std::isfinite(e)) << e;
  // Row 0 of cross_entropy: target 1 has logit -1e3, the max is 1e3: loss 2e3 exactly.
  EXPECT_NEAR(cross_entropy(x.detach(), Tensor::from_indices({1, -100}, {2})).item(), 2000.0, 1e-3);
}

TEST(FusedReference, ResultsDoNotDependOnThreadCount) {
  // Sizes large enough for parallel_for to split rows, columns and summation blocks. (The
  // GEMM library may block differently per thread count, so no matmul takes part here.)
  int saved = num_threads();
  auto run_all = [] {
    Tensor x = randn({512, 96}, 11).to(DType::F32).requires_grad_();
    Tensor w = randn({96}, 12).to(DType::F32).requires_grad_();
    Tensor t = randn({512, 96}, 13).to(DType::F32);
    std::vector<int64_t> idx(512);
    for (int64_t r = 0; r < 512; ++r) idx[r] = r % 7 == 0 ? -100 : r % 96;
    Tensor loss = add(add(sigmoid_bce_with_logits(x, t), cross_entropy(x, Tensor::from_indices(idx, {512}))),
                      sum_all(mul(layer_norm(x, w), softmax(x, 0))));
    loss.backward();
    std::vector<double> out = loss.to_doubles();
    for (const Tensor& g : {x.grad(), w.grad()})
      for (double v : g.to_doubles()) out.push_back(v);
    return out;
  };
  set_num_threads(1);
  auto one = run_all();
  set_num_threads(2);
  auto two = run_all();
  set_num_threads(saved);
  EXPECT_EQ(one, two);
}

}  // namespace
}  // namespace sdnc::test
