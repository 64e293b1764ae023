#include "sdnc/models/dnc.h"

#include <cmath>

#include <algorithm>
#include <functional>

#include "sdnc/autograd/engine.h"
#include "sdnc/autograd/grad_mode.h"
#include "sdnc/autograd/node.h"
#include "sdnc/io/config.h"
#include "sdnc/ops/ops.h"

namespace sdnc::models {

using nlohmann::json;

DncConfig DncConfig::from_json(const json& j, const std::string& where) {
  io::ConfigReader r(j, where);
  DncConfig c;
  if (!r.has("input_size") || !r.has("output_size"))
    fail("config", "{}: a dnc needs 'input_size' and 'output_size'", where);
  c.input_size = r.positive_int("input_size", 0);
  c.output_size = r.positive_int("output_size", 0);
  c.hidden_size = r.positive_int("hidden_size", c.hidden_size);
  c.memory_size = r.positive_int("memory_size", c.memory_size);
  c.word_size = r.positive_int("word_size", c.word_size);
  c.num_read_heads = r.positive_int("num_read_heads", c.num_read_heads);
  c.num_write_heads = r.positive_int("num_write_heads", c.num_write_heads);
  c.clip_value = r.clip_value("clip_value", c.clip_value);
  try {
    c.controller = controllers::parse_controller_kind(r.string("controller", "lstm"));
    c.strength = memory::parse_strength(r.string("strength", "softplus"));
  } catch (const Error& e) {
    fail("config", "{}: {}", where, e.what());
  }
  r.reject_unknown({"model_type"});
  return c;
}

json DncConfig::to_json() const {
  return {{"model_type", "dnc"},
          {"input_size", input_size},
          {"output_size", output_size},
          {"hidden_size", hidden_size},
          {"memory_size", memory_size},
          {"word_size", word_size},
          {"num_read_heads", num_read_heads},
          {"num_write_heads", num_write_heads},
          {"clip_value", clip_value > 0 ? json(clip_value) : json(nullptr)},
          {"controller", controllers::controller_kind_name(controller)},
          {"strength", memory::strength_name(strength)}};
}

DncModel::DncModel(const DncConfig& c) : config_(c) {
  const int64_t RW = c.num_read_heads * c.word_size;
  controllers::RecurrentControllerConfig cc;
  cc.input_size = c.input_size + RW;
  cc.hidden_size = c.hidden_size;
  cc.kind = c.controller;
  cc.clip_value = c.clip_value;
  controller = register_module("controller", std::make_shared<controllers::RecurrentController>(cc));
  memory::DncAccessConfig ac;
  ac.input_size = c.hidden_size;
  ac.memory_size = c.memory_size;
  ac.word_size = c.word_size;
  ac.num_reads = c.num_read_heads;
  ac.num_writes = c.num_write_heads;
  ac.strength = c.strength;
  access = register_module("access", std::make_shared<memory::DncAccess>(ac));
  output = register_module("output", std::make_shared<nn::Linear>(c.hidden_size + RW, c.output_size));
}

void DncModel::init(Generator& g) {
  controller->init(g);
  access->init(g);
  g.fill_truncated_normal(output->weight, 0.0, 1.0 / std::sqrt(static_cast<double>(output->in)));
  output->bias.fill(0.0);
}

DncState DncModel::zero_state(int64_t B, DType dtype) const {
  return {memory::AccessState::zeros(access->config(), B, dtype),
          Tensor::zeros({B, config_.num_read_heads, config_.word_size}, dtype), controller->zero_state(B, dtype)};
}

Tensor DncModel::step(const Tensor& x, DncState& state) const {
  const int64_t B = x.size(0), RW = config_.num_read_heads * config_.word_size;
  SDNC_CHECK(x.ndim() == 2 && x.size(1) == config_.input_size, "dnc", "input {} must be [B, {}]",
             shape_str(x.shape()), config_.input_size);
  Tensor chi = concat({x, reshape(state.read_words, {B, RW})}, 1);
  Tensor o = controller->step(chi, state.controller, &state.controller);
  state.read_words = access->step(o, state.access, &state.access);
  Tensor y = output->forward(concat({o, reshape(state.read_words, {B, RW})}, 1));
  return controllers::clip_if_enabled(y, config_.clip_value);
}

Tensor DncModel::step_features(const Tensor& x, DncState& state,
                               const memory::DncAccess::FusedInterface* fi) const {
  const int64_t B = x.size(0), RW = config_.num_read_heads * config_.word_size;
  Tensor chi = concat({x, reshape(state.read_words, {B, RW})}, 1);
  Tensor o = controller->step(chi, state.controller, &state.controller);
  state.read_words = access->step(o, state.access, &state.access, fi);
  return concat({o, reshape(state.read_words, {B, RW})}, 1);
}

namespace {
Tensor stack_time(const std::vector<Tensor>& steps) {  // T × [B, ...] → [B, T, ...]
  std::vector<Tensor> parts;
  for (const Tensor& s : steps) {
    Shape sh = s.shape();
    sh.insert(sh.begin() + 1, 1);
    parts.push_back(reshape(s, sh));
  }
  return parts.size() == 1 ? parts[0] : concat(parts, 1);
}
}  // namespace

Tensor DncModel::forward(const Tensor& inputs, DncTrace* trace) const {
  SDNC_CHECK(inputs.ndim() == 3 && inputs.size(2) == config_.input_size, "dnc", "inputs {} must be [B, T, {}]",
             shape_str(inputs.shape()), config_.input_size);
  if (checkpoint_every_ > 0 && grad_enabled() && !trace && !inputs.requires_grad() && !inputs.grad_fn())
    return forward_checkpointed(inputs);
  const int64_t B = inputs.size(0), T = inputs.size(1);
  DncState state = zero_state(B, inputs.dtype());
  // The fused path concatenates the interface linears once per sequence, not once per step.
  memory::DncAccess::FusedInterface fi;
  if (fused()) fi = access->fused_interface();
  // The output layer does not feed back: it runs once per chunk of kOutputChunk steps (one
  // GEMM, [B, chunk, h + R·W] → [B, chunk, Y]), so a long sequence keeps only its logits.
  constexpr int64_t kOutputChunk = 64;
  std::vector<Tensor> features, ys, usage, ww, rw, words, mem, link, prec;  // features: [o ; r_t] per step
  auto flush = [&] {
    if (features.empty()) return;
    ys.push_back(controllers::clip_if_enabled(output->forward(stack_time(features)), config_.clip_value));
    features.clear();
  };
  for (int64_t t = 0; t < T; ++t) {
    Tensor x = reshape(slice(inputs, 1, t, t + 1), {B, config_.input_size});
    features.push_back(step_features(x, state, fused() ? &fi : nullptr));
    if (static_cast<int64_t>(features.size()) == kOutputChunk) flush();
    if (trace) {
      usage.push_back(state.access.usage.detach());
      ww.push_back(state.access.write_weights.detach());
      rw.push_back(state.access.read_weights.detach());
      words.push_back(state.read_words.detach());
      mem.push_back(state.access.memory.detach());
      link.push_back(state.access.link.detach());
      prec.push_back(state.access.precedence.detach());
    }
  }
  if (trace) {
    NoGradGuard no_grad;
    *trace = {stack_time(usage), stack_time(ww),   stack_time(rw),  stack_time(words),
              stack_time(mem),   stack_time(link), stack_time(prec)};
  }
  flush();
  return ys.size() == 1 ? ys[0] : concat(ys, 1);
}

namespace {

// The recurrent state as a list (the feed-forward controller leaves h and c undefined).
constexpr int kStateParts = 9;
std::vector<Tensor> state_list(const DncState& s) {
  return {s.access.memory,     s.access.read_weights, s.access.write_weights, s.access.link, s.access.precedence,
          s.access.usage,      s.read_words,          s.controller.h,         s.controller.c};
}
DncState state_from(const std::vector<Tensor>& v) {
  DncState s;
  s.access = {v[0], v[1], v[2], v[3], v[4], v[5]};
  s.read_words = v[6];
  s.controller = {v[7], v[8]};
  return s;
}

// One checkpointed segment of steps. Inputs: the defined parts of the state at the segment's
// start. Outputs: the defined parts of the state at its end, then the features [B, k, h + R·W].
// Saves only the start state (aliases); backward reruns the segment with gradients from it
// and backpropagates the incoming gradients through the rerun (parameter gradients go to the
// parameters' .grad there, as the engine would deliver them).
struct DncSegmentNode : Node {
  // start (kStateParts, undefined allowed) → features; *end receives the end state
  std::function<Tensor(const std::vector<Tensor>&, std::vector<Tensor>*)> run;
  std::vector<Tensor> start;
  std::vector<int> parts;  // which state part each input is
  const char* name() const override { return "dnc_checkpoint_segment"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    EnableGradGuard grad;
    std::vector<Tensor> leaves(kStateParts);
    for (size_t i = 0; i < parts.size(); ++i) {
      leaves[parts[i]] = start[parts[i]].detach();
      if (needs_input_grad(i)) leaves[parts[i]].requires_grad_();
    }
    std::vector<Tensor> end;
    Tensor features = run(leaves, &end);
    std::vector<Tensor> roots, grads;
    for (size_t i = 0; i < parts.size(); ++i) {
      const Tensor& e = end[parts[i]];
      if (e.grad_fn() || e.requires_grad()) roots.push_back(e), grads.push_back(go[i]);
    }
    roots.push_back(features);
    grads.push_back(go.back());
    run_backward(roots, grads);
    std::vector<Tensor> out;
    for (size_t i = 0; i < parts.size(); ++i) out.push_back(needs_input_grad(i) ? leaves[parts[i]].grad() : Tensor());
    return out;
  }
  void release() override {
    run = nullptr;
    start.clear();
  }
};

}  // namespace

Tensor DncModel::forward_checkpointed(const Tensor& inputs) const {
  const int64_t B = inputs.size(0), T = inputs.size(1), k = checkpoint_every_;
  std::vector<Tensor> state = state_list(zero_state(B, inputs.dtype())), ys;
  for (int64_t t0 = 0; t0 < T; t0 += k) {
    const int64_t t1 = std::min(T, t0 + k);
    Tensor segment = slice(inputs, 1, t0, t1);  // [B, t1 − t0, X]
    auto run = [this, segment, B](const std::vector<Tensor>& start, std::vector<Tensor>* end) {
      DncState st = state_from(start);
      memory::DncAccess::FusedInterface fi;
      if (fused()) fi = access->fused_interface();
      std::vector<Tensor> features;
      for (int64_t t = 0; t < segment.size(1); ++t)
        features.push_back(step_features(reshape(slice(segment, 1, t, t + 1), {B, config_.input_size}), st,
                                         fused() ? &fi : nullptr));
      *end = state_list(st);
      return stack_time(features);
    };
    std::vector<Tensor> end;
    Tensor features;
    {
      NoGradGuard no_grad;
      features = run(state, &end);
    }
    auto node = std::make_shared<DncSegmentNode>();
    std::vector<const Tensor*> in;
    std::vector<Tensor*> out;
    for (int p = 0; p < kStateParts; ++p) {
      if (!state[p].defined()) continue;
      node->parts.push_back(p);
      in.push_back(&state[p]);
      out.push_back(&end[p]);
    }
    out.push_back(&features);
    attach_node(node, in, out);
    node->run = run;
    node->start.resize(kStateParts);
    for (int p : node->parts) node->start[p] = state[p].detach();
    ys.push_back(controllers::clip_if_enabled(output->forward(features), config_.clip_value));
    state = std::move(end);
  }
  return ys.size() == 1 ? ys[0] : concat(ys, 1);
}

}  // namespace sdnc::models
