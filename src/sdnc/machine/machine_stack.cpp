#include "sdnc/machine/machine_stack.h"

#include <algorithm>

#include "sdnc/autograd/grad_mode.h"
#include "sdnc/machine/write_head.h"
#include "sdnc/ops/decode_step.h"
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

MachineStack::MachineStack(const MachineConfig& c, int64_t in, const std::string& prefix)
    : c_(c), in_(in), prefix_(prefix) {
  SDNC_CHECK(!prefix.empty() || c.layers == 1, "machine", "a stack of {} layers needs a name prefix", c.layers);
  int64_t width = in;
  for (int64_t l = 0; l < c.layers; ++l) {
    auto layer = std::make_shared<MachineLayer>(c, width);
    std::string name = layer_prefix(static_cast<size_t>(l));
    if (!name.empty()) name.pop_back();  // register_module joins with '.'
    layers.push_back(register_module(name, layer));
    width = layer->output_width();
  }
}

int64_t MachineStack::output_width() const { return layers.back()->output_width(); }

std::string MachineStack::layer_prefix(size_t l) const {
  return prefix_.empty() ? "" : prefix_ + "." + std::to_string(l) + ".";
}

void MachineStack::init(Generator& g) {
  for (auto& l : layers) l->init(g);
}

MachineStack::State MachineStack::initial_state(int64_t B, DType dtype) const {
  State s;
  for (auto& l : layers) s.layers.push_back(l->initial_state(B, dtype));
  return s;
}

void MachineStack::start(State& state, int64_t B, DType dtype) const {
  State fresh = initial_state(B, dtype);
  state.layers = std::move(fresh.layers), state.position = 0;
}

std::vector<InterfaceProjection::Fused> MachineStack::fused_interfaces() const {
  std::vector<InterfaceProjection::Fused> f;
  if (c_.has_fused_access())
    for (auto& l : layers) f.push_back(l->fused_interface());
  return f;
}

void MachineStack::write_cross(const CrossSource& source, State& state) const {
  for (size_t l = 0; l < layers.size(); ++l) layers[l]->write_cross(source, state.layers[l]);
}

Tensor MachineStack::steps(const Tensor& x, State& state, const std::vector<InterfaceProjection::Fused>& fused,
                           std::vector<std::vector<StepRecord>>* records, const Tensor& padding) const {
  SDNC_CHECK(x.ndim() == 3 && x.size(2) == in_, "machine", "stack input {} must be [B, n, {}]", shape_str(x.shape()),
             in_);
  const int64_t B = x.size(0), n = x.size(1);
  if (state.layers.size() != layers.size()) start(state, B, x.dtype());
  if (records) records->resize(layers.size());
  std::vector<Tensor> features;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t t = state.position + i;
    Tensor h = reshape(slice(x, 1, i, i + 1), {B, in_});
    Tensor pad = padding.defined() ? reshape(slice(padding, 1, i, i + 1), {B}) : Tensor();
    for (size_t l = 0; l < layers.size(); ++l) {
      StepRecord rec;
      h = layers[l]->step(h, t, state.layers[l], fused.empty() ? nullptr : &fused[l], records ? &rec : nullptr, pad);
      if (records) (*records)[l].push_back(std::move(rec));
    }
    features.push_back(h);
  }
  state.position += n;
  return stack_time(features);
}

Tensor MachineStack::extend(const Tensor& x, State& state) const {
  if (!c_.has_chunk_form()) return steps(x, state, fused_interfaces());
  SDNC_CHECK(x.ndim() == 3 && x.size(2) == in_, "machine", "stack input {} must be [B, n, {}]", shape_str(x.shape()),
             in_);
  if (state.layers.size() != layers.size()) start(state, x.size(0), x.dtype());
  Tensor h = x;
  for (size_t l = 0; l < layers.size(); ++l) h = layers[l]->extend(h, state.position, state.layers[l]);
  state.position += x.size(1);
  return h;
}

bool MachineStack::has_decode_step(const Tensor& x) const {
  const auto& c = c_;
  if (grad_enabled() || !c.has_chunk_form() || !c.norm_first || c.norm != Norm::Layer ||
      c.key_value != KeyValue::Separate || c.write_heads != 1 || c.positions == Positions::Rope)
    return false;
  if (c.activation != "relu" && c.activation != "gelu" && c.activation != "gelu_tanh" && c.activation != "gelu_new")
    return false;
  if (!x.defined() || x.dtype() != DType::F32 || x.ndim() != 2 || x.size(0) != 1) return false;
  // The parameters share one dtype (Module::to); the op checks every tensor it reads.
  return layers[0]->self_attn->in_proj->weight.dtype() == DType::F32;
}

Tensor MachineStack::decode_step(const Tensor& x, State& state, const Head& head) const {
  SDNC_CHECK(has_decode_step(x), "machine", "decode_step does not apply to {} with input {} (see has_decode_step)",
             c_.dials_string(), x.defined() ? shape_str(x.shape()) : "nothing");
  if (state.layers.size() != layers.size()) start(state, 1, DType::F32);
  const int64_t n = state.position, SW = c_.slices() * c_.word_size;
  for (size_t l = 0; l < layers.size(); ++l)  // checks first: a failed call leaves the state as it was
    SDNC_CHECK(state.layers[l].memory.slots() == n && (n == 0 || state.layers[l].memory.keys.size(0) == 1), "machine",
               "decode_step: layer {}'s memory holds {} slots at position {}", l, state.layers[l].memory.slots(), n);
  auto bias_of = [](const nn::Norm& norm) {
    auto* ln = dynamic_cast<const nn::LayerNorm*>(&norm);
    return ln ? ln->bias : Tensor();
  };
  std::vector<DecodeLayerTensors> parts;
  for (size_t l = 0; l < layers.size(); ++l) {
    const MachineLayer& L = *layers[l];
    MemoryState& m = state.layers[l].memory;
    m.key_buffer = reserve_rows(m.keys, m.key_buffer, 1, SW, DType::F32);
    m.value_buffer = reserve_rows(m.values, m.value_buffer, 1, SW, DType::F32);
    const nn::Linear &qkv = *L.self_attn->in_proj, &out = *L.self_attn->out_proj;
    const nn::Linear &up = L.ffn->up(), &down = L.ffn->down();
    parts.push_back({L.norm1->weight, bias_of(*L.norm1), qkv.weight, qkv.bias, out.weight, out.bias, L.norm2->weight,
                     bias_of(*L.norm2), up.weight, up.bias, down.weight, down.bias, m.key_buffer, m.value_buffer});
  }
  DecodeStepOptions o;
  o.read_heads = c_.read_heads, o.slices = c_.slices(), o.word_size = c_.word_size, o.eps = c_.layer_norm_eps;
  o.conv1d = layers[0]->self_attn->in_proj->layout == nn::WeightLayout::Conv1D, o.activation = c_.activation;
  if (state.decode_weights != "f32" && !state.decode_copies)
    state.decode_copies = pack_decode_weights(parts, o, head.weight, state.decode_weights);
  Tensor y = sdnc::decode_step(x, n, parts, o, head.norm_weight, head.norm_bias, head.weight,
                               state.decode_weights == "f32" ? nullptr : state.decode_copies.get());
  for (auto& layer : state.layers) {
    MemoryState& m = layer.memory;
    m.keys = m.key_buffer.view_prefix({1, n + 1, SW}), m.values = m.value_buffer.view_prefix({1, n + 1, SW});
    m.read_weights = Tensor(), m.write_weights = Tensor();
  }
  state.position += 1;
  return y;
}

Tensor MachineStack::forward(const Tensor& x, models::Form form, models::Trace* trace, const Tensor& padding,
                             bool fused, const CrossSource* cross) const {
  SDNC_CHECK(x.ndim() == 3 && x.size(2) == in_, "machine", "stack input {} must be [B, T, {}]", shape_str(x.shape()),
             in_);
  if (padding.defined())
    SDNC_CHECK(padding.ndim() == 2 && padding.size(0) == x.size(0) && padding.size(1) == x.size(1), "machine",
               "padding {} must be [B, T] = [{}, {}]", shape_str(padding.shape()), x.size(0), x.size(1));
  if (form == models::Form::Parallel) {
    if (!c_.has_parallel_form())
      fail("machine", "{} has no parallel form: {}; use the recurrent form", c_.dials_string(),
           c_.no_parallel_reason());
    Tensor h = x;
    for (size_t l = 0; l < layers.size(); ++l) {
      Tensor w, cw;
      h = layers[l]->forward_parallel(h, trace ? &w : nullptr, padding, cross, trace && cross ? &cw : nullptr);
      if (trace) (*trace)[layer_prefix(l) + "read_weights"] = w;
      if (trace && cw.defined()) (*trace)[layer_prefix(l) + "cross_read_weights"] = cw;
    }
    return h;
  }
  std::vector<std::vector<StepRecord>> records(layers.size());
  Tensor h;
  if (!c_.causal) {
    h = x;
    for (size_t l = 0; l < layers.size(); ++l)
      h = layers[l]->forward_bidirectional_steps(h, padding, trace ? &records[l] : nullptr);
  } else {
    State state = initial_state(x.size(0), x.dtype());
    if (cross) write_cross(*cross, state);
    h = steps(x, state, fused ? fused_interfaces() : std::vector<InterfaceProjection::Fused>{},
              trace ? &records : nullptr, padding);
  }
  if (trace) put_trace(records, *trace);
  return h;
}

void MachineStack::put_trace(const std::vector<std::vector<StepRecord>>& records, models::Trace& trace) const {
  NoGradGuard no_grad;
  for (size_t l = 0; l < records.size(); ++l) {
    const auto& rs = records[l];
    if (rs.empty()) continue;
    int64_t n_max = 0;
    for (const auto& r : rs) n_max = std::max(n_max, r.read_weights.size(2));
    auto put = [&](const char* name, Tensor StepRecord::*field, bool both = false, bool slots = true) {
      if (!(rs.front().*field).defined()) return;
      std::vector<Tensor> steps;
      for (const auto& r : rs) steps.push_back(slots ? pad_slots(r.*field, n_max, both) : r.*field);
      trace[layer_prefix(l) + name] = stack_time(steps);
    };
    put("read_weights", &StepRecord::read_weights);
    put("write_weights", &StepRecord::write_weights);
    put("usage", &StepRecord::usage);
    put("read_words", &StepRecord::read_words, false, false);
    put("link", &StepRecord::link, true);
    put("precedence", &StepRecord::precedence);
    put("read_modes", &StepRecord::read_modes, false, false);
    put("cross_read_weights", &StepRecord::cross_read_weights, false, false);
    // memory rows: [B, n, S·W] → pad the slot axis
    auto put_rows = [&](const char* name, Tensor StepRecord::*field) {
      if (!(rs.front().*field).defined()) return;
      std::vector<Tensor> steps;
      for (const auto& r : rs) steps.push_back(transpose(pad_slots(transpose(r.*field, 1, 2), n_max, false), 1, 2));
      trace[layer_prefix(l) + name] = stack_time(steps);
    };
    put_rows("memory", &StepRecord::keys);
    put_rows("values", &StepRecord::values);
  }
}

}  // namespace sdnc::machine
