// test_fused_access.cpp — the fused access node (ops/allocate_access.h) for
// every allocate corner of the machine's dials (similarity dot | cosine, read_modes content |
// links, key_value separate | shared; recurrent and stateless controllers):
//   - the machine with the fused node equals the machine with its composed parts (write_step +
//     read_step, the oracle) in F64: logits and every traced state (memory, values, usage,
//     link, precedence, read and write weights) to 1e-12, parameter gradients to 1e-11;
//   - F64 central finite differences of the node's backward for every differentiable input;
//   - invariants: weightings sum to ≤ 1, usage in [0, 1], link diagonal zero; no NaN from
//     all-zero keys with usage at 1 and saturated gates, values and gradients;
//   - a missing, unexpected or misshapen part is refused naming it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "common/expect_error.h"
#include "common/finite_differences.h"
#include "common/random_tensors.h"
#include "sdnc/autograd/engine.h"
#include "sdnc/autograd/node.h"
#include "sdnc/machine/memory_machine.h"
#include "sdnc/ops/allocate_access.h"
#include "sdnc/sdnc.h"

namespace sdnc {
namespace {

using machine::MachineConfig;
using test::randn;
using test::random_weighting;

// The eight (similarity, read_modes, key_value) combinations; bit 0 cosine, 1 links, 2 separate.
AccessDials dials_of(int bits) {
  AccessDials d;
  d.cosine = bits & 1, d.links = bits & 2, d.separate = bits & 4;
  return d;
}

std::string label(const AccessDials& d) {
  return std::string(d.cosine ? "cosine" : "dot") + (d.links ? " links" : " content") +
         (d.separate ? " separate" : " shared");
}

// ---- the machine: fused node == composed parts ----------------------------------------------

// max |a − b| over the entries of two tensors of one shape
double max_abs_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  if (a.shape() != b.shape()) return INFINITY;
  NoGradGuard ng;
  auto v = sub(a, b).to_doubles();
  double worst = 0;
  for (double x : v) worst = std::max(worst, std::fabs(x));
  return worst;
}

// How many nodes named `op` the autograd graph behind y holds (each node counted once).
int count_nodes(const Tensor& y, const std::string& op) {
  std::vector<std::shared_ptr<Node>> todo{y.grad_fn()};
  std::set<Node*> seen;
  int count = 0;
  while (!todo.empty()) {
    std::shared_ptr<Node> n = todo.back();
    todo.pop_back();
    if (!n || !seen.insert(n.get()).second) continue;
    count += op == n->name();
    for (const Edge& e : n->next) todo.push_back(e.fn);
  }
  return count;
}

MachineConfig allocate_corner(machine::Controller ctrl, const AccessDials& d, int64_t H) {
  MachineConfig c;
  c.controller = ctrl, c.write = machine::Write::Allocate;
  c.similarity = d.cosine ? machine::Similarity::Cosine : machine::Similarity::Dot;
  c.read_modes = d.links ? machine::ReadModes::Links : machine::ReadModes::Content;
  c.key_value = d.separate ? machine::KeyValue::Separate : machine::KeyValue::Shared;
  c.input_size = 3, c.output_size = 2, c.read_heads = 3, c.write_heads = H, c.word_size = 4, c.memory_slots = 5;
  c.hidden_size = 6, c.d_model = 8, c.d_ffn = 9;
  c.positions = c.recurrent() ? machine::Positions::None : machine::Positions::Learned;
  c.stop_usage_gradient = true;  // DeepMind's semantics, which the fused node computes
  c.validate("test");
  return c;
}

TEST(FusedAccess, EqualsComposedPartsForEveryAllocateCorner) {
  const char* traced[] = {"memory", "values", "usage", "link", "precedence", "read_weights", "write_weights"};
  int corners = 0;
  for (auto ctrl : {machine::Controller::Lstm, machine::Controller::Stateless}) {
    for (int bits = 0; bits < 8; ++bits) {
      const AccessDials d = dials_of(bits);
      const int64_t H = bits % 2 + 1;  // both head counts over the corners
      MachineConfig c = allocate_corner(ctrl, d, H);
      ASSERT_TRUE(c.has_fused_access());
      SCOPED_TRACE(c.dials_string() + " H=" + std::to_string(H));
      machine::MemoryMachine m(c);
      Generator g(17 + bits);
      m.init(g);
      for (auto& [name, p] : m.named_parameters()) {  // generic gates, strengths and biases
        NoGradGuard ng;
        p.copy_from(add(p, mul_scalar(randn(p.shape(), g, p.dtype()), 0.3)));
      }
      m.to(DType::F64);
      Tensor x = randn({2, 7, 3}, g), cot = randn({2, 7, 2}, g);
      Tensor y[2];
      models::Trace trace[2];
      std::vector<Tensor> grads[2];
      for (int fused : {0, 1}) {
        m.set_fused(fused);
        m.zero_grad();
        y[fused] = m.forward(x, models::Form::Recurrent, &trace[fused]);
        EXPECT_EQ(count_nodes(y[fused], "allocate_access_step"), fused ? 7 : 0);  // one node per step
        run_backward({y[fused]}, {cot});
        for (auto& [name, p] : m.named_parameters()) grads[fused].push_back(p.grad().clone());
      }
      EXPECT_LT(max_abs_diff(y[1], y[0]), 1e-12) << "logits";
      for (const char* part : traced) {
        const std::string key = std::string("layers.0.") + part;
        const bool expected = (std::string(part) != "values" || d.separate) &&
                              ((std::string(part) != "link" && std::string(part) != "precedence") || d.links);
        ASSERT_EQ(trace[0].count(key) == 1, expected) << key;
        ASSERT_EQ(trace[1].count(key) == 1, expected) << key;
        if (expected) EXPECT_LT(max_abs_diff(trace[1].at(key), trace[0].at(key)), 1e-12) << key;
      }
      size_t i = 0;
      for (auto& [name, p] : m.named_parameters()) {
        EXPECT_LT(max_abs_diff(grads[1][i], grads[0][i]), 1e-11) << name;
        ++i;
      }
      ++corners;
    }
  }
  EXPECT_EQ(corners, 16);
}

TEST(FusedAccess, PositionsInsideTheAddressingKeepTheComposedParts) {
  MachineConfig c = allocate_corner(machine::Controller::Stateless, dials_of(0), 1);
  for (auto pos : {machine::Positions::Rope, machine::Positions::Alibi}) {
    c.positions = pos;
    EXPECT_FALSE(c.has_fused_access()) << machine::name(pos);
  }
  c = allocate_corner(machine::Controller::Lstm, dials_of(3), 1);
  c.memory_slices = 3;  // per-head slices of a slot: not in the fused layout
  EXPECT_FALSE(c.has_fused_access());
  c.write = machine::Write::Append, c.memory_slices = 0;
  EXPECT_FALSE(c.has_fused_access());
}

// ---- the op alone: random valid states --------------------------------------------------------

struct Sizes {
  int64_t B = 2, N = 5, W = 3, R = 2, H = 1;
};

// A state the machine can reach: weightings sum to ≤ 1, usage in [0, 1], link with zero
// diagonal and rows summing to ≤ 1; the parts the dials do not have are undefined.
std::vector<Tensor> random_state(const Sizes& s, const AccessDials& d, Generator& g) {
  NoGradGuard ng;
  const int64_t B = s.B, N = s.N, W = s.W, R = s.R, H = s.H;
  std::vector<Tensor> st(7);
  st[0] = randn({B, N, W}, g);
  st[1] = random_weighting({B, R, N}, g);
  st[2] = random_weighting({B, H, N}, g);
  if (d.links) {
    Tensor off = Tensor::ones({N, N}, DType::F64);
    for (int64_t i = 0; i < N; ++i) off.data<double>()[i * N + i] = 0;
    st[3] = mul(random_weighting({B, H, N, N}, g), off);
    st[4] = random_weighting({B, H, N}, g);
  }
  st[5] = test::uniform({B, N}, g);
  if (d.separate) st[6] = randn({B, N, W}, g);
  return st;
}

TEST(FusedAccessFiniteDifferences, EveryDifferentiableInputOfEveryCorner) {
  const char* names[] = {"memory", "read_weights", "write_weights", "link", "precedence", "usage", "values"};
  for (int bits = 0; bits < 8; ++bits) {
    const AccessDials d = dials_of(bits);
    Sizes s;
    s.H = bits / 4 + 1;  // H = 2 for the separate corners
    SCOPED_TRACE(label(d) + " H=" + std::to_string(s.H));
    Generator g(31 + bits);
    Tensor iface = mul_scalar(randn({s.B, allocate_interface_width(s.W, s.R, s.H, d)}, g), 1.5);
    std::vector<Tensor> st = random_state(s, d, g);
    // inputs checked: iface and every state part but the write weights (stop-gradient)
    std::vector<Tensor> in{iface};
    std::vector<std::string> in_names{"iface"};
    for (int k : {0, 1, 3, 4, 5, 6})
      if (st[k].defined()) in.push_back(st[k].clone().requires_grad_()), in_names.push_back(names[k]);
    in[0].requires_grad_();
    auto run = [&] {
      std::vector<Tensor> prev = st;
      size_t j = 1;
      for (int k : {0, 1, 3, 4, 5, 6})
        if (st[k].defined()) prev[k] = in[j++];
      return allocate_access_step(in[0], prev, d);
    };
    std::vector<Tensor> cot;
    {
      std::vector<Tensor> out = run();
      Tensor loss = Tensor::scalar(0.0, DType::F64);
      for (const Tensor& o : out) {
        cot.push_back(o.defined() ? randn(o.shape(), g) : Tensor());
        if (o.defined()) loss = add(loss, sum_all(mul(o, cot.back())));
      }
      loss.backward();
    }
    auto value = [&] {
      NoGradGuard ng;
      double acc = 0;
      std::vector<Tensor> out = run();
      for (size_t j = 0; j < out.size(); ++j)
        if (out[j].defined()) acc += sum_all(mul(out[j], cot[j])).item();
      return acc;
    };
    for (size_t a = 0; a < in.size(); ++a) {
      ASSERT_TRUE(in[a].grad().defined()) << in_names[a];
      EXPECT_LE(test::worst_central_difference_error(in[a], in[a].grad(), value), 1e-6) << in_names[a];
    }
  }
}

// ---- invariants and edges ----------------------------------------------------------------------

bool all_finite(const Tensor& t) {
  for (double v : t.to_doubles())
    if (!std::isfinite(v)) return false;
  return true;
}

// weightings [.., N]: every entry in [0, 1], every row summing to ≤ 1
void expect_weighting(const Tensor& w, const char* what) {
  const int64_t N = w.size(-1);
  auto v = w.to_doubles();
  for (size_t row = 0; row < v.size() / N; ++row) {
    double total = 0;
    for (int64_t n = 0; n < N; ++n) {
      EXPECT_GE(v[row * N + n], -1e-12) << what;
      total += v[row * N + n];
    }
    EXPECT_LE(total, 1 + 1e-9) << what << " row " << row;
  }
}

TEST(FusedAccessInvariants, WeightingsUsageAndLinkStayValidOverSteps) {
  for (int bits = 0; bits < 8; ++bits) {
    const AccessDials d = dials_of(bits);
    SCOPED_TRACE(label(d));
    Sizes s;
    s.H = 2, s.N = 6;
    Generator g(5 + bits);
    std::vector<Tensor> st = random_state(s, d, g);
    const int64_t I = allocate_interface_width(s.W, s.R, s.H, d);
    for (int t = 0; t < 6; ++t) {
      std::vector<Tensor> out = allocate_access_step(mul_scalar(randn({s.B, I}, g), 3.0), st, d);
      st.assign(out.begin() + 1, out.end());
      expect_weighting(st[1], "read_weights");
      expect_weighting(st[2], "write_weights");
      for (double u : st[5].to_doubles()) EXPECT_TRUE(u >= 0 && u <= 1) << "usage " << u;
      if (!d.links) continue;
      expect_weighting(st[3], "link rows");
      expect_weighting(st[4], "precedence");
      auto L = st[3].to_doubles();
      for (int64_t bh = 0; bh < s.B * s.H; ++bh)
        for (int64_t i = 0; i < s.N; ++i) EXPECT_EQ(L[(bh * s.N + i) * s.N + i], 0.0) << "link diagonal";
    }
  }
}

TEST(FusedAccessInvariants, ZeroKeysFullUsageSaturatedGatesNoNaN) {
  for (DType dt : {DType::F32, DType::F64}) {
    for (int bits = 0; bits < 8; ++bits) {
      const AccessDials d = dials_of(bits);
      for (double v : {60.0, -60.0, 0.0}) {
        SCOPED_TRACE(label(d) + " iface " + std::to_string(v) + " " + dtype_name(dt));
        const int64_t B = 2, N = 4, W = 3, R = 2, H = 2;
        Tensor iface = Tensor::full({B, allocate_interface_width(W, R, H, d)}, v, dt).requires_grad_();
        std::vector<Tensor> st = {Tensor::zeros({B, N, W}, dt), Tensor::zeros({B, R, N}, dt),
                                  Tensor::zeros({B, H, N}, dt), Tensor(), Tensor(), Tensor::ones({B, N}, dt), Tensor()};
        if (d.links) st[3] = Tensor::zeros({B, H, N, N}, dt), st[4] = Tensor::zeros({B, H, N}, dt);
        if (d.separate) st[6] = Tensor::zeros({B, N, W}, dt);
        for (auto& t : st)
          if (t.defined()) t.requires_grad_();
        std::vector<Tensor> out = allocate_access_step(iface, st, d);
        std::vector<Tensor> next(out.begin() + 1, out.end());
        std::vector<Tensor> out2 = allocate_access_step(iface, next, d);  // again, from the saturated state
        Tensor loss = Tensor::scalar(0.0, dt);
        for (auto* o : {&out, &out2})
          for (const Tensor& t : *o) {
            if (!t.defined()) continue;
            ASSERT_TRUE(all_finite(t));
            loss = add(loss, sum_all(t));
          }
        loss.backward();
        EXPECT_TRUE(all_finite(iface.grad()));
        for (int k : {0, 1, 3, 4, 5, 6})
          if (st[k].defined()) EXPECT_TRUE(all_finite(st[k].grad())) << "state part " << k;
      }
    }
  }
}

TEST(FusedAccessErrors, MissingUnexpectedOrMisshapenPartsAreNamed) {
  const int64_t B = 1, N = 4, W = 3, R = 2, H = 1;
  AccessDials content;
  content.links = false;
  Tensor iface = Tensor::zeros({B, allocate_interface_width(W, R, H, content)});
  std::vector<Tensor> st = {Tensor::zeros({B, N, W}), Tensor::zeros({B, R, N}), Tensor::zeros({B, H, N}),
                            Tensor(), Tensor(), Tensor::zeros({B, N}), Tensor()};
  EXPECT_NO_THROW(allocate_access_step(iface, st, content));
  std::vector<Tensor> with_link = st;
  with_link[3] = Tensor::zeros({B, H, N, N});
  EXPECT_OP_ERROR(allocate_access_step(iface, with_link, content), "[allocate_access_step]", "link given");
  AccessDials separate = content;
  separate.separate = true;
  EXPECT_OP_ERROR(allocate_access_step(iface, st, separate), "[allocate_access_step]", "values");
  std::vector<Tensor> bad_values = st;
  bad_values[6] = Tensor::zeros({B, N, W + 1});
  EXPECT_OP_ERROR(allocate_access_step(iface, bad_values, separate), "[allocate_access_step]", "values");
  AccessDials links;
  EXPECT_OP_ERROR(allocate_access_step(Tensor::zeros({B, allocate_interface_width(W, R, H, links)}), st, links),
                  "[allocate_access_step]", "link");
  EXPECT_OP_ERROR(allocate_access_step(Tensor::zeros({B, 5}), st, content), "[allocate_access_step]", "iface");
  EXPECT_OP_ERROR(allocate_access_step(iface, {st[0], st[1]}, content), "[allocate_access_step]", "parts");
}

}  // namespace
}  // namespace sdnc
