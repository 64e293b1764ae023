// The memory machine (src/sdnc/machine): every corner of the five binary dials builds, runs
// and has the gradients finite differences give (F64, central differences); the parallel form
// equals the recurrent form wherever it exists; the fused DNC access equals the composed parts;
// the presets equal the models they replace (DncModel, SequenceSdnc) weight for weight; an
// append memory's links are the shift; a bounded memory stays bounded; recomputed segments
// give the same gradients; the trace shows the parts a corner has and no others; bad dials
// are refused with the key and the allowed values.
#include <gtest/gtest.h>

#include <cmath>

#include "common/expect_error.h"
#define EXPECT_ERROR(stmt, part) EXPECT_OP_ERROR(stmt, "[config]", part)
#include "common/random_tensors.h"
#include "common/tensor_compare.h"
#include "sdnc/autograd/engine.h"
#include "sdnc/machine/memory_machine.h"
#include "sdnc/machine/read_heads.h"
#include "sdnc/memory/temporal_links.h"
#include "sdnc/models/dnc.h"
#include "sdnc/models/model.h"
#include "sdnc/models/sequence_sdnc.h"
#include "sdnc/sdnc.h"

namespace sdnc {
namespace {

using machine::MachineConfig;
using machine::MemoryMachine;
using models::Form;

// A tiny machine of the given corner (index bits: controller, write, similarity, read modes, key/value).
MachineConfig corner(int bits) {
  MachineConfig c;
  c.controller = bits & 1 ? machine::Controller::Lstm : machine::Controller::Stateless;
  c.write = bits & 2 ? machine::Write::Allocate : machine::Write::Append;
  c.similarity = bits & 4 ? machine::Similarity::Cosine : machine::Similarity::Dot;
  c.read_modes = bits & 8 ? machine::ReadModes::Links : machine::ReadModes::Content;
  c.key_value = bits & 16 ? machine::KeyValue::Shared : machine::KeyValue::Separate;
  c.input_size = 3, c.output_size = 2;
  c.read_heads = 2, c.word_size = 3, c.write_heads = 1;
  c.memory_slots = c.write == machine::Write::Allocate ? 4 : 0;
  c.hidden_size = 5, c.d_model = 6, c.d_ffn = 7, c.layers = 1;
  c.positions = c.recurrent() ? machine::Positions::None : machine::Positions::Sinusoidal;
  c.validate("test");
  c.stop_usage_gradient = false;  // the true derivative, which finite differences see
  return c;
}

std::string label(const MachineConfig& c) { return c.dials_string(); }

std::unique_ptr<MemoryMachine> build(const MachineConfig& c, uint64_t seed) {
  auto m = std::make_unique<MemoryMachine>(c);
  Generator g(seed);
  m->init(g);
  // Move every parameter off its initial value so that gates, strengths and biases are generic.
  for (auto& [name, p] : m->named_parameters()) {
    Tensor noise = test::randn(p.shape(), g, p.dtype());
    NoGradGuard ng;
    p.copy_from(add(p, mul_scalar(noise, 0.3)));
  }
  m->to(DType::F64);
  return m;
}

double loss_of(const MemoryMachine& m, const Tensor& x, const Tensor& cot, Form form) {
  NoGradGuard ng;
  return sum_all(mul(m.forward(x, form), cot)).item();
}

// Central differences on a few entries of every parameter; returns the worst |fd − autograd|
// relative to max(1, |autograd|).
double gradient_error(MemoryMachine& m, const Tensor& x, const Tensor& cot, Form form, Generator& g) {
  m.zero_grad();
  run_backward({m.forward(x, form)}, {cot});
  double worst = 0;
  for (auto& [name, p] : m.named_parameters()) {
    EXPECT_TRUE(p.grad().defined()) << name << " gets no gradient";
    if (!p.grad().defined()) continue;
    auto grad = p.grad().to_doubles();
    for (int k = 0; k < 3; ++k) {
      int64_t i = static_cast<int64_t>(g.next_u64() % static_cast<uint64_t>(p.numel()));
      double* v = p.data<double>() + i;
      const double keep = *v;
      // The allocation sorts by float32 keys (DeepMind's), so a loss with allocation is
      // piecewise smooth: a difference that straddles a key flip is not a derivative. Each
      // entry is tried at three step sizes; a flip rarely sits inside all.
      double err = 1e300, fd = 0;
      for (double scale : {1e-6, 1e-7, 1e-8}) {
        const double h = scale * std::max(1.0, std::abs(keep));
        *v = keep + h;
        double up = loss_of(m, x, cot, form);
        *v = keep - h;
        double down = loss_of(m, x, cot, form);
        *v = keep;
        double d = (up - down) / (2 * h), e = std::abs(d - grad[i]) / std::max(1.0, std::abs(grad[i]));
        if (e < err) err = e, fd = d;
      }
      EXPECT_LT(err, 1e-5) << name << "[" << i << "]: fd " << fd << " vs autograd " << grad[i];
      worst = std::max(worst, err);
    }
  }
  return worst;
}

using test::max_abs_diff;

// Same names, same values (the preset draws its initial weights as the model it replaces).
void expect_same_parameters(const nn::Module& legacy, const nn::Module& preset) {
  auto a = legacy.state_dict(), b = preset.state_dict();
  ASSERT_EQ(a.size(), b.size());
  for (auto& [n, t] : a) {
    ASSERT_TRUE(b.count(n)) << "the preset lacks " << n;
    EXPECT_EQ(max_abs_diff(t, b.at(n)), 0.0) << n;
  }
}

// Every parameter's gradient from output a and from output b (the same function in two forms)
// under the cotangent cot agrees to 1e-12.
void expect_same_gradients(MemoryMachine& m, const Tensor& a, const Tensor& b, const Tensor& cot) {
  m.zero_grad();
  run_backward({a}, {cot});
  std::vector<Tensor> ga;
  for (auto& [n, p] : m.named_parameters()) ga.push_back(p.grad().clone());
  m.zero_grad();
  run_backward({b}, {cot});
  size_t i = 0;
  for (auto& [n, p] : m.named_parameters()) EXPECT_LT(max_abs_diff(p.grad(), ga[i++]), 1e-12) << n;
}

TEST(Machine, EveryCornerMatchesFiniteDifferences) {
  double worst = 0;
  for (int bits = 0; bits < 32; ++bits) {
    MachineConfig c = corner(bits);
    SCOPED_TRACE(label(c));
    auto m = build(c, 100 + bits);
    Generator g(7 + bits);
    Tensor x = test::randn({2, 5, 3}, g), cot = test::randn({2, 5, 2}, g);
    worst = std::max(worst, gradient_error(*m, x, cot, Form::Recurrent, g));
  }
  std::printf("[machine] 32 corners: worst finite-difference error %.2e\n", worst);
}

TEST(Machine, HybridVariantsMatchFiniteDifferences) {
  // Bounded append (eviction after N slots), GQA slices, rope, alibi, feedforward, 2 layers, H = 2.
  std::vector<std::pair<std::string, MachineConfig>> cases;
  MachineConfig b = corner(0 | 8 | 4);  // stateless, append, cosine, links, separate
  b.memory_slots = 3;
  cases.push_back({"bounded append + links", b});
  MachineConfig bl = corner(1);  // lstm, append, dot, content
  bl.memory_slots = 2;
  cases.push_back({"lstm + bounded append", bl});
  MachineConfig gqa = corner(0);
  gqa.read_heads = 4, gqa.memory_slices = 2;
  cases.push_back({"grouped-query slices", gqa});
  MachineConfig rope = corner(0);
  rope.positions = machine::Positions::Rope, rope.word_size = 4;
  cases.push_back({"rope", rope});
  MachineConfig alibi = corner(4);
  alibi.positions = machine::Positions::Alibi;
  cases.push_back({"alibi + cosine", alibi});
  MachineConfig ff = corner(1 | 2 | 4 | 8 | 16);
  ff.controller = machine::Controller::FeedForward, ff.write_heads = 2;
  cases.push_back({"feedforward DNC, H = 2", ff});
  MachineConfig deep = corner(1 | 2 | 8);
  deep.layers = 2;
  cases.push_back({"2 recurrent layers, allocate + dot + links + separate", deep});
  MachineConfig post = corner(16);
  post.norm_first = false, post.layers = 2, post.activation = "relu";
  cases.push_back({"2 post-LN stateless layers, shared", post});
  MachineConfig llama = corner(0);  // Llama's layer: RMSNorm, SwiGLU, no biases, RoPE (θ 500), GQA
  llama.norm = machine::Norm::Rms, llama.activation = "swiglu", llama.bias = false;
  llama.positions = machine::Positions::Rope, llama.rope_theta = 500, llama.word_size = 4;
  llama.read_heads = 4, llama.memory_slices = 2;
  cases.push_back({"rms + swiglu + no bias + rope theta + gqa", llama});
  MachineConfig bert = corner(0);  // BERT's layer: bidirectional, post-LN, GELU (erf)
  bert.causal = false, bert.norm_first = false, bert.activation = "gelu", bert.layers = 2;
  cases.push_back({"2 bidirectional post-LN gelu layers", bert});
  for (auto& [name, c] : cases) {
    SCOPED_TRACE(name);
    c.validate("test");
    auto m = build(c, 42);
    Generator g(3);
    Tensor x = test::randn({2, 5, 3}, g), cot = test::randn({2, 5, 2}, g);
    gradient_error(*m, x, cot, Form::Recurrent, g);
    if (c.has_parallel_form()) gradient_error(*m, x, cot, Form::Parallel, g);
  }
}

TEST(Machine, ParallelFormEqualsRecurrentFormWhereItExists) {
  int with_parallel = 0;
  for (int bits = 0; bits < 32; ++bits) {
    for (auto pos : {machine::Positions::Sinusoidal, machine::Positions::Rope, machine::Positions::Alibi}) {
      MachineConfig c = corner(bits);
      if (!c.has_parallel_form()) {
        EXPECT_TRUE((bits & 1) || (bits & 2) || (bits & 8)) << label(c);
        continue;
      }
      if (pos == machine::Positions::Rope && c.key_value == machine::KeyValue::Shared) continue;
      c.positions = pos;
      if (pos == machine::Positions::Rope) c.word_size = 4;
      c.layers = 2;
      SCOPED_TRACE(label(c) + " positions=" + machine::name(pos));
      auto m = build(c, 5);
      Generator g(11);
      Tensor x = test::randn({3, 6, 3}, g), cot = test::randn({3, 6, 2}, g);
      models::Trace tp, tr;
      Tensor yp = m->forward(x, Form::Parallel, &tp), yr = m->forward(x, Form::Recurrent, &tr);
      EXPECT_LT(max_abs_diff(yp, yr), 1e-12);
      EXPECT_LT(max_abs_diff(tp.at("layers.1.read_weights"), tr.at("layers.1.read_weights")), 1e-12);
      // gradients of both forms
      expect_same_gradients(*m, yp, yr, cot);
      ++with_parallel;
    }
  }
  EXPECT_EQ(with_parallel, 4 * 3 - 2);  // (dot, cosine) × (separate, shared) × 3 positions, rope not with shared
}

// A bidirectional machine (causal=false, an encoder): the recurrent form writes every slot,
// then every position reads them all; it equals the parallel form (outputs, read weights,
// gradients), padded slots get no read weight, and position 0 sees the last input.
TEST(Machine, BidirectionalFormsAgreeAndReadTheWholeSequence) {
  for (auto pos : {machine::Positions::Sinusoidal, machine::Positions::Rope}) {
    MachineConfig c = corner(4 * (pos == machine::Positions::Sinusoidal));  // cosine with sinusoidal
    c.causal = false, c.positions = pos, c.layers = 2, c.read_heads = 4, c.memory_slices = 2, c.word_size = 4;
    c.validate("test");
    SCOPED_TRACE(label(c) + " positions=" + machine::name(pos));
    auto m = build(c, 9);
    Generator g(21);
    const int64_t B = 2, T = 6;
    Tensor x = test::randn({B, T, 3}, g), cot = test::randn({B, T, 2}, g);
    Tensor padding = Tensor::zeros({B, T}, DType::I64);
    padding.data<int64_t>()[1 * T + 4] = padding.data<int64_t>()[1 * T + 5] = 1;  // sequence 1 has 4 tokens
    models::Trace tp, tr;
    Tensor yp = m->forward(x, Form::Parallel, &tp, padding), yr = m->forward(x, Form::Recurrent, &tr, padding);
    EXPECT_LT(max_abs_diff(yp, yr), 1e-12);
    Tensor wp = tp.at("layers.1.read_weights"), wr = tr.at("layers.1.read_weights");  // [B, T, R, T]
    EXPECT_LT(max_abs_diff(wp, wr), 1e-12);
    auto w = wr.to_doubles();
    const int64_t R = c.read_heads;
    double padded = 0, first_reads_last = 0;
    for (int64_t t = 0; t < T; ++t)
      for (int64_t r = 0; r < R; ++r) {
        padded += w[static_cast<size_t>((((1 * T + t) * R + r) * T) + 4)] + w[static_cast<size_t>((((1 * T + t) * R + r) * T) + 5)];
        if (t == 0) first_reads_last += w[static_cast<size_t>(((0 * T + 0) * R + r) * T + T - 1)];
      }
    EXPECT_EQ(padded, 0.0);
    EXPECT_GT(first_reads_last, 1e-6);
    // The output at position 0 changes when the last input does (it is not causal).
    Tensor x2 = x.clone();
    x2.data<double>()[(0 * T + T - 1) * 3] += 1.0;
    EXPECT_GT(max_abs_diff(slice(m->forward(x2, Form::Parallel), 1, 0, 1), slice(yp, 1, 0, 1)), 1e-6);
    expect_same_gradients(*m, yp, yr, cot);
    // No step form: a bidirectional read needs the slots of later positions.
    MemoryMachine::State st;
    EXPECT_OP_ERROR(m->step(test::randn({1, 3}, g), st), "[machine]", "has no step form");
  }
  MachineConfig bad = corner(1);
  bad.causal = false;
  EXPECT_ERROR(bad.validate("m.json"), "causal=false (bidirectional: every write before any read) needs");
}

TEST(Machine, FusedDncAccessEqualsComposedParts) {
  for (auto ctrl : {machine::Controller::Lstm, machine::Controller::FeedForward, machine::Controller::Stateless}) {
    for (int64_t H : {1, 2}) {
      MachineConfig c = corner(1 | 2 | 4 | 8 | 16);
      c.controller = ctrl, c.write_heads = H, c.read_heads = 3, c.memory_slots = 5;
      if (ctrl == machine::Controller::Stateless) c.positions = machine::Positions::Sinusoidal;
      c.stop_usage_gradient = true;  // DeepMind's semantics, which the fused node computes
      ASSERT_TRUE(c.is_dnc_access());
      SCOPED_TRACE(label(c) + " H=" + std::to_string(H));
      auto m = build(c, 9);
      Generator g(4);
      Tensor x = test::randn({2, 7, 3}, g), cot = test::randn({2, 7, 2}, g);
      std::vector<Tensor> outs, grads[2];
      for (bool fused : {true, false}) {
        m->set_fused(fused);
        m->zero_grad();
        models::Trace t;
        Tensor y = m->forward(x, Form::Recurrent, &t);
        outs.push_back(y);
        run_backward({y}, {cot});
        for (auto& [n, p] : m->named_parameters()) grads[fused].push_back(p.grad().clone());
        outs.push_back(t.at("layers.0.usage"));
        outs.push_back(t.at("layers.0.link"));
      }
      EXPECT_LT(max_abs_diff(outs[0], outs[3]), 1e-12);  // logits
      EXPECT_LT(max_abs_diff(outs[1], outs[4]), 1e-12);  // usage
      EXPECT_LT(max_abs_diff(outs[2], outs[5]), 1e-12);  // link
      for (size_t i = 0; i < grads[0].size(); ++i) EXPECT_LT(max_abs_diff(grads[0][i], grads[1][i]), 1e-11) << i;
    }
  }
}

TEST(Machine, DncPresetIsDncModelWeightForWeight) {
  models::DncConfig d;
  d.input_size = 4, d.output_size = 3, d.hidden_size = 8, d.memory_size = 6, d.word_size = 5;
  d.num_read_heads = 2, d.num_write_heads = 1;
  models::DncModel legacy(d);
  MemoryMachine m(MachineConfig::from_json(d.to_json(), "test"));
  Generator g1(3), g2(3);
  legacy.init(g1);
  m.init(g2);  // the same draws in the same order: the same initial weights
  expect_same_parameters(legacy, m);
  legacy.to(DType::F64);
  m.to(DType::F64);
  Generator g(8);
  Tensor x = test::randn({3, 9, 4}, g);
  EXPECT_LT(max_abs_diff(legacy.forward(x), m.forward(x, Form::Recurrent)), 1e-13);
  EXPECT_EQ(m.config().to_json(), d.to_json());
}

TEST(Machine, SdncPresetIsSequenceSdncWeightForWeight) {
  for (auto p : {models::Positions::Sinusoidal, models::Positions::Learned, models::Positions::None}) {
    models::SequenceSdncConfig s;
    s.input_size = 5, s.output_size = 3, s.d_model = 16, s.nhead = 4, s.num_layers = 2, s.dim_feedforward = 24;
    s.positions = p, s.max_positions = 32;
    models::SequenceSdnc legacy(s);
    MemoryMachine m(MachineConfig::from_json(s.to_json(), "test"));
    Generator g1(5), g2(5);
    legacy.init(g1);
    m.init(g2);
    expect_same_parameters(legacy, m);
    legacy.to(DType::F64);
    m.to(DType::F64);
    Generator g(8);
    Tensor x = test::randn({2, 7, 5}, g);
    Tensor y = legacy.forward(x, Form::Parallel);
    EXPECT_LT(max_abs_diff(y, m.forward(x, Form::Parallel)), 1e-12);
    EXPECT_LT(max_abs_diff(y, m.forward(x, Form::Recurrent)), 1e-12);
    EXPECT_EQ(m.config().to_json(), s.to_json());
  }
}

TEST(Machine, AppendMemoryLinksAreTheShift) {
  // The DNC's link update driven by one-hot writes on slots 0, 1, 2, ... is the shift matrix,
  // so its directional reads equal shift_directional_weights'.
  const int64_t B = 2, R = 3, T = 6;
  Generator g(2);
  Tensor link = Tensor::zeros({B, 1, T, T}, DType::F64), prec = Tensor::zeros({B, 1, T}, DType::F64);
  for (int64_t t = 0; t < T; ++t) {
    Tensor w = Tensor::zeros({B, 1, T}, DType::F64);
    for (int64_t b = 0; b < B; ++b) w.data<double>()[b * T + t] = 1;
    link = memory::update_link(link, prec, w);
    prec = memory::update_precedence(prec, w);
    // previous read weights over the t slots written before this step (zero elsewhere)
    const int64_t n = t + 1;
    Tensor prev_small = t ? test::random_weighting({B, R, t}, g) : Tensor();
    Tensor prev_full = Tensor::zeros({B, R, T}, DType::F64);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t r = 0; r < R; ++r)
        for (int64_t j = 0; j < t; ++j)
          prev_full.data<double>()[(b * R + r) * T + j] = prev_small.data<double>()[(b * R + r) * t + j];
    auto [fwd, bwd] = machine::shift_directional_weights(prev_small, B, R, n, DType::F64);
    Tensor gf = memory::directional_weights(link, prev_full, true), gb = memory::directional_weights(link, prev_full, false);
    auto f = gf.to_doubles(), bb = gb.to_doubles(), sf = fwd.to_doubles(), sb = bwd.to_doubles();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t r = 0; r < R; ++r)
        for (int64_t j = 0; j < T; ++j) {
          double ef = j < n ? sf[(b * R + r) * n + j] : 0, eb = j < n ? sb[(b * R + r) * n + j] : 0;
          EXPECT_NEAR(f[(b * R + r) * T + j], ef, 1e-15) << "t " << t << " j " << j;
          EXPECT_NEAR(bb[(b * R + r) * T + j], eb, 1e-15) << "t " << t << " j " << j;
        }
  }
}

TEST(Machine, BoundedMemoryStaysBoundedAndEvictsByUsage) {
  MachineConfig c = corner(0);  // stateless, append, dot, content, separate
  c.memory_slots = 3;
  c.validate("test");
  auto m = build(c, 1);
  Generator g(5);
  Tensor x = test::randn({2, 8, 3}, g);
  models::Trace t;
  NoGradGuard ng;
  m->forward(x, Form::Recurrent, &t);
  Tensor ww = t.at("layers.0.write_weights");  // [B, T, 1, 3]
  ASSERT_EQ(ww.shape(), (Shape{2, 8, 1, 3}));
  EXPECT_EQ(t.at("layers.0.memory").size(2), 3);
  auto w = ww.to_doubles();
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t s = 0; s < 8; ++s) {
      double total = 0;
      for (int64_t j = 0; j < 3; ++j) total += w[(b * 8 + s) * 3 + j];
      if (s < 3) EXPECT_EQ(w[(b * 8 + s) * 3 + s], 1.0) << "append fills slot t first";
      EXPECT_GT(total, 0.99) << "a full memory still writes (reuses) a slot";
      EXPECT_LE(total, 1.0 + 1e-12);
    }
  // The step state is constant in size once full.
  MemoryMachine::State st = m->initial_state(2, DType::F64);
  for (int64_t s = 0; s < 10; ++s) m->step(test::randn({2, 3}, g), st);
  EXPECT_EQ(st.layers[0].memory.keys.size(1), 3);
  EXPECT_EQ(st.layers[0].memory.usage.size(1), 3);
}

TEST(Machine, CheckpointedSegmentsGiveTheSameGradients) {
  for (int bits : {1 | 2 | 4 | 8 | 16, 0 | 8, 1}) {
    MachineConfig c = corner(bits);
    c.layers = 2;
    SCOPED_TRACE(label(c));
    auto m = build(c, 3);
    Generator g(6);
    Tensor x = test::randn({2, 7, 3}, g), cot = test::randn({2, 7, 2}, g);
    std::vector<Tensor> gr[2];
    Tensor y[2];
    for (int k : {0, 3}) {
      m->set_checkpoint_every(k);
      m->zero_grad();
      y[k > 0] = m->forward(x, Form::Recurrent);
      run_backward({y[k > 0]}, {cot});
      for (auto& [n, p] : m->named_parameters()) gr[k > 0].push_back(p.grad().clone());
    }
    EXPECT_LT(max_abs_diff(y[0], y[1]), 1e-13);
    for (size_t i = 0; i < gr[0].size(); ++i) EXPECT_LT(max_abs_diff(gr[0][i], gr[1][i]), 1e-12) << i;
  }
}

// Inference (no gradient) runs the recurrent form in chunks of 64 steps, the head once per
// chunk; with gradients it runs the whole sequence at once. The two must agree across chunk
// boundaries: the state carries over, and the positions continue (the stateless corners'
// sinusoidal positions).
TEST(Machine, RecurrentInferenceInChunksEqualsTheWholeSequence) {
  for (int bits : {1 | 2 | 4 | 8 | 16, 0, 0 | 8, 1}) {
    MachineConfig c = corner(bits);
    SCOPED_TRACE(label(c));
    auto m = build(c, 5);
    Generator g(8);
    Tensor x = test::randn({2, 150, 3}, g);
    Tensor whole = m->forward(x, Form::Recurrent);  // grad enabled: one pass, one head
    ASSERT_TRUE(whole.grad_fn());
    Tensor chunked;
    {
      NoGradGuard ng;
      chunked = m->forward(x, Form::Recurrent);
    }
    ASSERT_EQ(chunked.shape(), whole.shape());
    EXPECT_LT(max_abs_diff(chunked, whole), 1e-13);
  }
}

TEST(Machine, TraceShowsThePartsACornerHas) {
  for (int bits = 0; bits < 32; ++bits) {
    MachineConfig c = corner(bits);
    SCOPED_TRACE(label(c));
    auto m = build(c, 2);
    m->set_fused(false);
    Generator g(1);
    models::Trace t;
    NoGradGuard ng;
    m->forward(test::randn({1, 4, 3}, g), Form::Recurrent, &t);
    const bool allocate = c.write == machine::Write::Allocate, links = c.read_modes == machine::ReadModes::Links;
    EXPECT_TRUE(t.count("layers.0.read_weights"));
    EXPECT_TRUE(t.count("layers.0.write_weights"));
    EXPECT_TRUE(t.count("layers.0.memory"));
    EXPECT_EQ(t.count("layers.0.usage"), allocate ? 1u : 0u);
    EXPECT_EQ(t.count("layers.0.link"), links && allocate ? 1u : 0u);
    EXPECT_EQ(t.count("layers.0.read_modes"), links ? 1u : 0u);
    EXPECT_EQ(t.count("layers.0.values"), c.key_value == machine::KeyValue::Separate ? 1u : 0u);
    EXPECT_EQ(t.at("layers.0.read_weights").size(3), allocate ? 4 : 4);  // N = 4 slots, or T = 4 appended
  }
}

// Token input (input_vocab V): the embedding row E[v] is what the vector input's Linear makes
// of the one-hot vector e_v (W·e_v + b); a recurrent controller with E = I reads exactly the
// one-hot rows. So a token machine whose other weights are a vector machine's gives its logits.
TEST(Machine, TokenInputIsTheOneHotInputThroughTheInputMap) {
  const int64_t V = 4;
  for (int bits : {0, 1, 31}) {  // Transformer, LSTM + append, DNC
    MachineConfig c = corner(bits);
    c.input_size = V;
    if (c.recurrent()) c.d_model = V;  // the embedding width a recurrent layer then reads
    MachineConfig ct = c;
    ct.input_vocab = V;
    ct.validate("test");
    auto a = build(c, 5);
    MemoryMachine b(ct);
    b.to(DType::F64);
    auto from = a->state_dict();
    {
      NoGradGuard ng;
      for (auto& [name, p] : b.named_parameters()) {
        if (name != "input.weight") {
          ASSERT_TRUE(from.count(name)) << name;
          p.copy_from(from.at(name));
          continue;
        }
        double* e = p.data<double>();
        for (int64_t v = 0; v < V; ++v)
          for (int64_t d = 0; d < p.size(1); ++d)
            e[v * p.size(1) + d] = c.recurrent() ? (v == d ? 1.0 : 0.0)
                                                 : from.at("input.weight").to_doubles()[d * V + v] +
                                                       from.at("input.bias").to_doubles()[d];
      }
    }
    Generator g(12);
    std::vector<int64_t> ids(2 * 6);
    for (auto& t : ids) t = static_cast<int64_t>(g.next_u64() % V);
    Tensor tokens = Tensor::from_indices(ids, {2, 6});
    Tensor hot = Tensor::zeros({2, 6, V}, DType::F64);
    for (size_t i = 0; i < ids.size(); ++i) hot.data<double>()[i * V + ids[i]] = 1.0;
    EXPECT_LT(max_abs_diff(a->forward(hot, Form::Recurrent), b.forward(tokens, Form::Recurrent)), 1e-12)
        << label(c);
    if (c.has_parallel_form())
      EXPECT_LT(max_abs_diff(a->forward(hot, Form::Parallel), b.forward(tokens, Form::Parallel)), 1e-12);
    // step() takes [B] token ids
    MemoryMachine::State st;
    Tensor first = b.step(Tensor::from_indices({ids[0], ids[6]}, {2}), st);
    EXPECT_LT(max_abs_diff(first, slice(b.forward(tokens, Form::Recurrent), 1, 0, 1)), 1e-12);
    // bad tokens: out of range, wrong dtype
    EXPECT_OP_ERROR(b.forward(Tensor::from_indices({0, 4}, {1, 2}), Form::Recurrent), "[machine]",
                    "token 4 at index 1 of the inputs is outside the vocabulary [0, 4)");
    EXPECT_OP_ERROR(b.forward(hot, Form::Recurrent), "[machine]", "inputs must be token ids I64 [B, T]");
  }
  EXPECT_ERROR(MachineConfig::from_json({{"model_type", "machine"}, {"input_size", 3}, {"input_vocab", 5},
                                         {"output_size", 2}, {"memory_slots", 4}}, "m.json"),
               "key 'input_size' must equal input_vocab");
  MachineConfig j = MachineConfig::from_json(
      {{"model_type", "machine"}, {"input_vocab", 7}, {"output_size", 2}, {"memory_slots", 4}}, "m.json");
  EXPECT_EQ(j.input_size, 7);
  EXPECT_EQ(MachineConfig::from_json(j.to_json(), "m.json").to_json(), j.to_json());
}

TEST(Machine, BadDialsAreRefusedWithTheKeyAndTheAllowedValues) {
  nlohmann::json ok = {{"model_type", "machine"}, {"input_size", 3}, {"output_size", 2}, {"memory_slots", 4}};
  EXPECT_NO_THROW(MachineConfig::from_json(ok, "m.json"));
  auto with = [&](const char* k, nlohmann::json v) {
    nlohmann::json j = ok;
    j[k] = v;
    return j;
  };
  EXPECT_ERROR(MachineConfig::from_json(with("controller", "gru"), "m.json"),
               "m.json: key 'controller' must be one of stateless, lstm, feedforward; got 'gru'");
  EXPECT_ERROR(MachineConfig::from_json(with("write", "erase"), "m.json"), "key 'write' must be one of append, allocate");
  EXPECT_ERROR(MachineConfig::from_json(with("similarity", "l2"), "m.json"), "key 'similarity' must be one of dot, cosine");
  EXPECT_ERROR(MachineConfig::from_json(with("read_modes", "all"), "m.json"), "key 'read_modes' must be one of");
  EXPECT_ERROR(MachineConfig::from_json(with("key_value", "tied"), "m.json"), "key 'key_value' must be one of");
  EXPECT_ERROR(MachineConfig::from_json(with("positions", "xpos"), "m.json"), "key 'positions' must be one of");
  nlohmann::json no_slots = ok;
  no_slots.erase("memory_slots");
  EXPECT_ERROR(MachineConfig::from_json(no_slots, "m.json"), "write=allocate needs key 'memory_slots'");
  EXPECT_ERROR(MachineConfig::from_json(with("memroy_slots", 3), "m.json"),
               "unknown key 'memroy_slots' (did you mean 'memory_slots'?)");
  nlohmann::json app = with("write", "append");
  app["write_heads"] = 2;
  EXPECT_ERROR(MachineConfig::from_json(app, "m.json"), "key 'write_heads' must be 1");
  EXPECT_ERROR(MachineConfig::from_json(with("memory_slices", 3), "m.json"), "must divide read_heads");
  EXPECT_ERROR(MachineConfig::from_json(with("positions", "rope"), "m.json"), "must be 'none' for controller=lstm");
  // Parallel form for a corner that has none: the error names the dials and why.
  MachineConfig c = MachineConfig::from_json(ok, "m.json");
  MemoryMachine m(c);
  Generator g(1);
  m.init(g);
  EXPECT_OP_ERROR(m.forward(Tensor::zeros({1, 2, 3}), Form::Parallel), "[machine]",
               "has no parallel form: its controller is recurrent");
}

}  // namespace
}  // namespace sdnc
