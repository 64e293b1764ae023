#include "sdnc/machine/memory_machine.h"

#include <functional>

#include "sdnc/autograd/engine.h"
#include "sdnc/autograd/grad_mode.h"
#include "sdnc/autograd/node.h"
#include "sdnc/models/sequence_sdnc.h"
#include "sdnc/ops/ops.h"

namespace sdnc::machine {

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

// x [B, ..., n] (and, with both, [B, ..., n, n]) padded with zeros to n_max slots.
Tensor pad_slots(const Tensor& x, int64_t n_max, bool both) {
  Tensor y = x;
  auto pad_axis = [&](int64_t axis) {
    int64_t n = y.size(axis);
    if (n >= n_max) return;
    Shape s = y.shape();
    s[axis] = n_max - n;
    y = concat({y, Tensor::zeros(s, y.dtype())}, axis);
  };
  pad_axis(y.ndim() - 1);
  if (both) pad_axis(y.ndim() - 2);
  return y;
}

}  // namespace

MemoryMachine::MemoryMachine(const MachineConfig& c) : c_(c) {
  c.validate("machine config");
  if (!c.recurrent()) {
    input = register_module("input", std::make_shared<nn::Linear>(c.input_size, c.d_model));
    if (c.positions == Positions::Learned)
      pos_embed = register_module("pos_embed", std::make_shared<nn::Embedding>(c.max_positions, c.d_model));
  }
  int64_t width = c.recurrent() ? c.input_size : c.d_model;
  for (int64_t l = 0; l < c.layers; ++l) {
    auto layer = std::make_shared<MachineLayer>(c, width);
    std::string prefix = layer_prefix(static_cast<size_t>(l));
    if (!prefix.empty()) prefix.pop_back();  // register_module joins with '.'
    layers.push_back(register_module(prefix, layer));
    width = layer->output_width();
  }
  if (!c.recurrent()) norm = register_module("norm", std::make_shared<nn::LayerNorm>(c.d_model, c.layer_norm_eps));
  output = register_module("output", std::make_shared<nn::Linear>(width, c.output_size));
}

std::string MemoryMachine::layer_prefix(size_t l) const {
  if (c_.preset == Preset::Dnc && c_.layers == 1) return "";
  return "layers." + std::to_string(l) + ".";
}

void MemoryMachine::init(Generator& g) {
  if (c_.recurrent()) {  // Sonnet's initialisation, in the DNC's order
    for (auto& l : layers) l->init(g);
    g.fill_truncated_normal(output->weight, 0.0, 1.0 / std::sqrt(static_cast<double>(output->in)));
    output->bias.fill(0.0);
    return;
  }
  input->init_uniform(g);  // PyTorch's defaults, in SequenceSdnc's order
  if (pos_embed) pos_embed->init_normal(g, 0.02);
  for (auto& l : layers) l->init(g);
  norm->weight.fill(1.0);
  norm->bias.fill(0.0);
  output->init_uniform(g);
}

MemoryMachine::State MemoryMachine::initial_state(int64_t B, DType dtype) const {
  State s;
  for (auto& l : layers) s.layers.push_back(l->initial_state(B, dtype));
  return s;
}

Tensor MemoryMachine::embed(const Tensor& inputs, int64_t first) const {
  if (c_.recurrent()) return inputs;
  const int64_t n = inputs.size(1);
  Tensor x = input->forward(inputs);
  if (c_.positions == Positions::Sinusoidal)
    return add(x, models::sinusoidal_positions(first, n, c_.d_model, x.dtype()));
  if (c_.positions == Positions::Learned) {
    if (first + n > c_.max_positions)
      fail("machine", "sequence of {} steps exceeds max_positions {} (learned positions)", first + n, c_.max_positions);
    std::vector<int64_t> pos(n);
    for (int64_t i = 0; i < n; ++i) pos[i] = first + i;
    return add(x, pos_embed->forward(Tensor::from_indices(pos, {n})));
  }
  return x;
}

Tensor MemoryMachine::head(const Tensor& f) const {
  if (c_.recurrent()) return controllers::clip_if_enabled(output->forward(f), c_.clip_value);
  return output->forward(norm->forward(f));
}

std::vector<InterfaceProjection::Fused> MemoryMachine::fused_interfaces() const {
  std::vector<InterfaceProjection::Fused> f;
  if (fused_ && c_.has_fused_access())
    for (auto& l : layers) f.push_back(l->fused_interface());
  return f;
}

Tensor MemoryMachine::run_steps(const Tensor& inputs, State& state,
                                const std::vector<InterfaceProjection::Fused>& fused,
                                std::vector<std::vector<StepRecord>>* records) const {
  const int64_t B = inputs.size(0), n = inputs.size(1);
  std::vector<Tensor> features;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t t = state.position + i;
    Tensor x = embed(slice(inputs, 1, i, i + 1), t);
    x = reshape(x, {B, x.size(2)});
    for (size_t l = 0; l < layers.size(); ++l) {
      StepRecord rec;
      x = layers[l]->step(x, t, state.layers[l], fused.empty() ? nullptr : &fused[l], records ? &rec : nullptr);
      if (records) (*records)[l].push_back(std::move(rec));
    }
    features.push_back(x);
  }
  state.position += n;
  return stack_time(features);
}

Tensor MemoryMachine::step(const Tensor& x, State& state) const {
  SDNC_CHECK(x.ndim() == 2 && x.size(1) == c_.input_size, "machine", "input {} must be [B, {}]", shape_str(x.shape()),
             c_.input_size);
  if (state.layers.size() != layers.size()) state = initial_state(x.size(0), x.dtype());
  Tensor f = run_steps(reshape(x, {x.size(0), 1, x.size(1)}), state, fused_interfaces(), nullptr);
  Tensor y = head(f);
  return reshape(y, {y.size(0), y.size(2)});
}

Tensor MemoryMachine::forward(const Tensor& inputs, models::Form form, models::Trace* trace) const {
  if (!inputs.defined() || inputs.ndim() != 3 || inputs.size(2) != c_.input_size ||
      (inputs.dtype() != DType::F32 && inputs.dtype() != DType::F64))
    fail("machine", "inputs must be F32 [B, T, {}], got {} {}", c_.input_size,
         inputs.defined() ? dtype_name(inputs.dtype()) : "nothing", inputs.defined() ? shape_str(inputs.shape()) : "");
  if (inputs.numel() == 0) fail("machine", "inputs are empty (shape {})", shape_str(inputs.shape()));
  if (form == models::Form::Recurrent) {
    if (checkpoint_every_ > 0 && grad_enabled() && !trace && !inputs.requires_grad() && !inputs.grad_fn())
      return forward_checkpointed(inputs);
    return forward_recurrent(inputs, trace);
  }
  if (!c_.has_parallel_form())
    fail("machine", "{} has no parallel form: {}; use the recurrent form", c_.dials_string(), c_.no_parallel_reason());
  Tensor x = embed(inputs, 0);
  for (size_t l = 0; l < layers.size(); ++l) {
    Tensor w;
    x = layers[l]->forward_parallel(x, trace ? &w : nullptr);
    if (trace) (*trace)[layer_prefix(l) + "read_weights"] = w;
  }
  return head(x);
}

Tensor MemoryMachine::forward_recurrent(const Tensor& inputs, models::Trace* trace) const {
  State state = initial_state(inputs.size(0), inputs.dtype());
  std::vector<std::vector<StepRecord>> records(layers.size());
  Tensor features = run_steps(inputs, state, fused_interfaces(), trace ? &records : nullptr);
  if (trace) {
    NoGradGuard no_grad;
    for (size_t l = 0; l < layers.size(); ++l) {
      const auto& rs = records[l];
      int64_t n_max = 0;
      for (const auto& r : rs) n_max = std::max(n_max, r.read_weights.size(2));
      auto put = [&](const char* name, Tensor StepRecord::*field, bool both = false, bool slots = true) {
        if (!(rs.front().*field).defined()) return;
        std::vector<Tensor> steps;
        for (const auto& r : rs) steps.push_back(slots ? pad_slots(r.*field, n_max, both) : r.*field);
        (*trace)[layer_prefix(l) + name] = stack_time(steps);
      };
      put("read_weights", &StepRecord::read_weights);
      put("write_weights", &StepRecord::write_weights);
      put("usage", &StepRecord::usage);
      put("read_words", &StepRecord::read_words, false, false);
      put("link", &StepRecord::link, true);
      put("precedence", &StepRecord::precedence);
      put("read_modes", &StepRecord::read_modes, false, false);
      // memory rows: [B, n, S·W] → pad the slot axis
      auto put_rows = [&](const char* name, Tensor StepRecord::*field) {
        if (!(rs.front().*field).defined()) return;
        std::vector<Tensor> steps;
        for (const auto& r : rs) steps.push_back(transpose(pad_slots(transpose(r.*field, 1, 2), n_max, false), 1, 2));
        (*trace)[layer_prefix(l) + name] = stack_time(steps);
      };
      put_rows("memory", &StepRecord::keys);
      put_rows("values", &StepRecord::values);
    }
  }
  return head(features);
}

namespace {

// The recurrent state as a flat list of tensors (undefined where a part is absent).
constexpr int kPartsPerLayer = 10;
std::vector<Tensor> state_list(const MemoryMachine::State& s) {
  std::vector<Tensor> v;
  for (const auto& l : s.layers) {
    const MemoryState& m = l.memory;
    for (const Tensor& t : {m.keys, m.values, m.usage, m.write_weights, m.read_weights, m.link, m.precedence, l.reads,
                            l.controller.h, l.controller.c})
      v.push_back(t);
  }
  return v;
}
MemoryMachine::State state_from(const std::vector<Tensor>& v, int64_t position) {
  MemoryMachine::State s;
  s.position = position;
  for (size_t i = 0; i + kPartsPerLayer <= v.size(); i += kPartsPerLayer) {
    LayerState l;
    l.memory = {v[i], v[i + 1], v[i + 2], v[i + 3], v[i + 4], v[i + 5], v[i + 6]};
    l.reads = v[i + 7];
    l.controller = {v[i + 8], v[i + 9]};
    s.layers.push_back(l);
  }
  return s;
}

// One checkpointed segment of steps. Inputs: the defined state parts at its start; outputs:
// the defined parts at its end, then the segment's features. Keeps only the start state;
// the backward reruns the segment with gradients and backpropagates through the rerun.
struct MachineSegmentNode : Node {
  std::function<Tensor(const std::vector<Tensor>&, std::vector<Tensor>*)> run;
  std::vector<Tensor> start;
  std::vector<size_t> in_parts, out_parts;
  const char* name() const override { return "machine_checkpoint_segment"; }
  std::vector<Tensor> backward(const std::vector<Tensor>& go) override {
    EnableGradGuard grad;
    std::vector<Tensor> leaves(start.size());
    for (size_t i = 0; i < in_parts.size(); ++i) {
      leaves[in_parts[i]] = start[in_parts[i]].detach();
      if (needs_input_grad(i)) leaves[in_parts[i]].requires_grad_();
    }
    std::vector<Tensor> end;
    Tensor features = run(leaves, &end);
    std::vector<Tensor> roots, grads;
    for (size_t i = 0; i < out_parts.size(); ++i) {
      const Tensor& e = end[out_parts[i]];
      if ((e.grad_fn() || e.requires_grad()) && go[i].defined()) roots.push_back(e), grads.push_back(go[i]);
    }
    roots.push_back(features);
    grads.push_back(go.back());
    run_backward(roots, grads);
    std::vector<Tensor> out;
    for (size_t i = 0; i < in_parts.size(); ++i)
      out.push_back(needs_input_grad(i) ? leaves[in_parts[i]].grad() : Tensor());
    return out;
  }
  void release() override {
    run = nullptr;
    start.clear();
  }
};

}  // namespace

Tensor MemoryMachine::forward_checkpointed(const Tensor& inputs) const {
  const int64_t T = inputs.size(1), k = checkpoint_every_;
  std::vector<Tensor> state = state_list(initial_state(inputs.size(0), inputs.dtype())), features;
  for (int64_t t0 = 0; t0 < T; t0 += k) {
    const int64_t t1 = std::min(T, t0 + k);
    Tensor segment = slice(inputs, 1, t0, t1);
    auto run = [this, segment, t0](const std::vector<Tensor>& start, std::vector<Tensor>* end) {
      State st = state_from(start, t0);
      Tensor f = run_steps(segment, st, fused_interfaces(), nullptr);
      *end = state_list(st);
      return f;
    };
    std::vector<Tensor> end;
    Tensor f;
    {
      NoGradGuard no_grad;
      f = run(state, &end);
    }
    auto node = std::make_shared<MachineSegmentNode>();
    std::vector<const Tensor*> in;
    std::vector<Tensor*> out;
    for (size_t p = 0; p < state.size(); ++p)
      if (state[p].defined()) node->in_parts.push_back(p), in.push_back(&state[p]);
    for (size_t p = 0; p < end.size(); ++p)
      if (end[p].defined()) node->out_parts.push_back(p), out.push_back(&end[p]);
    out.push_back(&f);
    attach_node(node, in, out);
    node->run = run;
    node->start.resize(state.size());
    for (size_t p : node->in_parts) node->start[p] = state[p].detach();
    features.push_back(f);
    state = std::move(end);
  }
  return head(features.size() == 1 ? features[0] : concat(features, 1));
}

}  // namespace sdnc::machine
