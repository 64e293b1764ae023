#include "sdnc/machine/memory_machine.h"

#include <functional>

#include "sdnc/autograd/engine.h"
#include "sdnc/autograd/grad_mode.h"
#include "sdnc/autograd/node.h"
#include "sdnc/models/sequence_sdnc.h"
#include "sdnc/ops/ops.h"

namespace sdnc::machine {

MemoryMachine::MemoryMachine(const MachineConfig& c) : c_(c) {
  c.validate("machine config");
  if (c.token_input())
    input_embed = register_module("input", std::make_shared<nn::Embedding>(c.input_vocab, c.d_model));
  else if (!c.recurrent())
    input = register_module("input", std::make_shared<nn::Linear>(c.input_size, c.d_model));
  if (!c.recurrent() && c.positions == Positions::Learned)
    pos_embed = register_module("pos_embed", std::make_shared<nn::Embedding>(c.max_positions, c.d_model));
  const int64_t width = c.recurrent() && !c.token_input() ? c.input_size : c.d_model;
  stack = register_module("", std::make_shared<MachineStack>(c, width,
                                                             c.preset == Preset::Dnc && c.layers == 1 ? "" : "layers"));
  if (!c.recurrent()) norm = register_module("norm", make_norm(c, c.d_model));
  output = register_module("output", std::make_shared<nn::Linear>(stack->output_width(), c.output_size));
}

void MemoryMachine::init(Generator& g) {
  if (input_embed) input_embed->init_normal(g, 1.0);  // torch.nn.Embedding's default N(0, 1)
  if (c_.recurrent()) {  // Sonnet's initialisation, in the DNC's order
    stack->init(g);
    g.fill_truncated_normal(output->weight, 0.0, 1.0 / std::sqrt(static_cast<double>(output->in)));
    output->bias.fill(0.0);
    return;
  }
  if (input) input->init_uniform(g);  // PyTorch's defaults, in SequenceSdnc's order
  if (pos_embed) pos_embed->init_normal(g, 0.02);
  stack->init(g);
  norm->weight.fill(1.0);
  if (auto* ln = dynamic_cast<nn::LayerNorm*>(norm.get())) ln->bias.fill(0.0);
  output->init_uniform(g);
}

MemoryMachine::State MemoryMachine::initial_state(int64_t B, DType dtype) const {
  return stack->initial_state(B, dtype);
}

Tensor MemoryMachine::embed(const Tensor& inputs, int64_t first) const {
  if (c_.recurrent() && !input_embed) return inputs;
  const int64_t n = inputs.size(1);
  Tensor x = input_embed ? input_embed->forward(inputs) : input->forward(inputs);
  if (c_.recurrent()) return x;
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
  return fused_ ? stack->fused_interfaces() : std::vector<InterfaceProjection::Fused>{};
}

Tensor MemoryMachine::run_steps(const Tensor& inputs, State& state,
                                const std::vector<InterfaceProjection::Fused>& fused,
                                std::vector<std::vector<StepRecord>>* records) const {
  return stack->steps(embed(inputs, state.position), state, fused, records);
}

void MemoryMachine::check_inputs(const Tensor& inputs) const {
  if (c_.token_input()) {
    if (!inputs.defined() || inputs.ndim() != 2 || inputs.dtype() != DType::I64)
      fail("machine", "inputs must be token ids I64 [B, T] (input_vocab {}), got {} {}", c_.input_vocab,
           inputs.defined() ? dtype_name(inputs.dtype()) : "nothing", inputs.defined() ? shape_str(inputs.shape()) : "");
    const int64_t* t = inputs.data<int64_t>();
    for (int64_t i = 0; i < inputs.numel(); ++i)
      if (t[i] < 0 || t[i] >= c_.input_vocab)
        fail("machine", "token {} at index {} of the inputs is outside the vocabulary [0, {})", t[i], i,
             c_.input_vocab);
  } else if (!inputs.defined() || inputs.ndim() != 3 || inputs.size(2) != c_.input_size ||
             (inputs.dtype() != DType::F32 && inputs.dtype() != DType::F64)) {
    fail("machine", "inputs must be F32 [B, T, {}], got {} {}", c_.input_size,
         inputs.defined() ? dtype_name(inputs.dtype()) : "nothing", inputs.defined() ? shape_str(inputs.shape()) : "");
  }
  if (inputs.numel() == 0) fail("machine", "inputs are empty (shape {})", shape_str(inputs.shape()));
}

DType MemoryMachine::state_dtype(const Tensor& inputs) const {
  return c_.token_input() ? output->weight.dtype() : inputs.dtype();
}

Tensor MemoryMachine::step(const Tensor& x, State& state) const {
  Tensor in;
  if (c_.token_input()) {
    SDNC_CHECK(x.ndim() == 1 || (x.ndim() == 2 && x.size(1) == 1), "machine", "tokens {} must be [B]",
               shape_str(x.shape()));
    in = reshape(x, {x.size(0), 1});
  } else {
    SDNC_CHECK(x.ndim() == 2 && x.size(1) == c_.input_size, "machine", "input {} must be [B, {}]",
               shape_str(x.shape()), c_.input_size);
    in = reshape(x, {x.size(0), 1, x.size(1)});
  }
  check_inputs(in);
  if (state.layers.size() != stack->layers.size()) state = initial_state(x.size(0), state_dtype(x));
  Tensor f = run_steps(in, state, fused_interfaces(), nullptr);
  Tensor y = head(f);
  return reshape(y, {y.size(0), y.size(2)});
}

Tensor MemoryMachine::forward(const Tensor& inputs, models::Form form, models::Trace* trace,
                              const Tensor& padding) const {
  check_inputs(inputs);
  if (form == models::Form::Recurrent && c_.causal && checkpoint_every_ > 0 && grad_enabled() && !trace &&
      !padding.defined() && !inputs.requires_grad() && !inputs.grad_fn())
    return forward_checkpointed(inputs);
  if (form == models::Form::Recurrent && c_.causal && !grad_enabled() && !trace && !padding.defined())
    return forward_inference_chunks(inputs);
  return head(stack->forward(embed(inputs, 0), form, trace, padding, fused_));
}

Tensor MemoryMachine::forward_inference_chunks(const Tensor& inputs) const {
  const int64_t T = inputs.size(1);
  State state = initial_state(inputs.size(0), state_dtype(inputs));
  std::vector<Tensor> logits;  // per chunk [B, n, Y]: a step's features live only until its chunk's head
  for (int64_t t0 = 0; t0 < T; t0 += kInferenceChunk)
    logits.push_back(head(run_steps(slice(inputs, 1, t0, std::min(T, t0 + kInferenceChunk)), state,
                                    fused_interfaces(), nullptr)));
  return logits.size() == 1 ? logits[0] : concat(logits, 1);
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
    l.memory = {v[i], v[i + 1], v[i + 2], v[i + 3], v[i + 4], v[i + 5], v[i + 6], Tensor(), Tensor()};
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
  std::vector<Tensor> state = state_list(initial_state(inputs.size(0), state_dtype(inputs))), features;
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
