#include "sdnc/machine/machine_layer.h"

#include <cmath>

#include "sdnc/machine/addressing.h"
#include "sdnc/machine/positions.h"
#include "sdnc/machine/read_heads.h"
#include "sdnc/machine/write_head.h"
#include "sdnc/ops/allocate_access.h"
#include "sdnc/ops/ops.h"

namespace sdnc::machine {

QkvProjection::QkvProjection(int64_t D, int64_t rows, int64_t read_width) {
  in_proj = register_module("", std::make_shared<nn::Linear>(D, rows, true, nn::WeightLayout::Linear,
                                                             "in_proj_weight", "in_proj_bias"));
  out_proj = register_module("out_proj", std::make_shared<nn::Linear>(read_width, D));
}

MachineLayer::MachineLayer(const MachineConfig& c, int64_t in) : c_(c), in_(in) {
  const int64_t RW = c.read_heads * c.word_size;
  if (c.recurrent()) {
    controllers::RecurrentControllerConfig cc;
    cc.input_size = in + RW;
    cc.hidden_size = c.hidden_size;
    cc.kind = c.controller == Controller::Lstm ? controllers::ControllerKind::Lstm
                                               : controllers::ControllerKind::FeedForward;
    cc.clip_value = c.clip_value;
    controller = register_module("controller", std::make_shared<controllers::RecurrentController>(cc));
    access = register_module("access", std::make_shared<InterfaceProjection>(c, c.hidden_size));
    return;
  }
  SDNC_CHECK(in == c.d_model, "machine", "a stateless layer reads its D = {} wide input, got {}", c.d_model, in);
  // Registration order = SequenceSdnc's (torch.nn.TransformerEncoderLayer's) checkpoint order.
  self_attn = register_module(
      "self_attn", std::make_shared<QkvProjection>(c.d_model, InterfaceProjection::qkv_width(c), RW));
  ffn = register_module("", std::make_shared<controllers::FeedForward>(c.d_model, c.d_ffn,
                                                                        controllers::parse_activation(c.activation),
                                                                        controllers::ParamNaming::Torch));
  norm1 = register_module("norm1", std::make_shared<nn::LayerNorm>(c.d_model, c.layer_norm_eps));
  norm2 = register_module("norm2", std::make_shared<nn::LayerNorm>(c.d_model, c.layer_norm_eps));
  access = register_module("access", std::make_shared<InterfaceProjection>(c, c.d_model, self_attn->in_proj));
}

int64_t MachineLayer::output_width() const {
  return c_.recurrent() ? c_.hidden_size + c_.read_heads * c_.word_size : c_.d_model;
}

void MachineLayer::init(Generator& g) {
  if (c_.recurrent()) {
    controller->init(g);
    access->init_truncated(g);
    return;
  }
  self_attn->in_proj->init_uniform(g);
  self_attn->out_proj->init_uniform(g);
  ffn->init_uniform(g);
  access->init_uniform(g);
}

LayerState MachineLayer::initial_state(int64_t B, DType dtype) const {
  LayerState s;
  s.memory = initial_memory(c_, B, dtype);
  s.reads = Tensor::zeros({B, c_.read_heads, c_.word_size}, dtype);
  if (controller) s.controller = controller->zero_state(B, dtype);
  return s;
}

Tensor MachineLayer::access_step(const Tensor& a, int64_t t, LayerState& state,
                                 const InterfaceProjection::Fused* fused, StepRecord* rec) const {
  const int64_t B = a.size(0), R = c_.read_heads, W = c_.word_size;
  MemoryState& m = state.memory;
  MemoryState next;
  Tensor words, read_modes;
  if (fused && c_.has_fused_access() && c_.stop_usage_gradient) {
    // The fused access node (ops/dnc_addressing.h): the whole write and read in one node.
    Tensor iface = linear(a, fused->weight, fused->bias);  // [B, I]: one GEMM for every part
    AccessDials dials;
    dials.cosine = c_.similarity == Similarity::Cosine, dials.links = c_.read_modes == ReadModes::Links;
    dials.separate = c_.key_value == KeyValue::Separate, dials.oneplus = c_.strength == Strength::Oneplus;
    std::vector<Tensor> out = allocate_access_step(
        iface, {m.keys, m.read_weights, m.write_weights, m.link, m.precedence, m.usage, m.values}, dials);
    words = out[0];
    next.keys = out[1], next.read_weights = out[2], next.write_weights = out[3];
    next.link = out[4], next.precedence = out[5], next.usage = out[6], next.values = out[7];
    if (rec && dials.links) {  // the read modes, from their columns of the raw interface (interface.h's layout)
      const int64_t H = c_.write_heads, at = 2 * H * c_.slices() * W + R + 2 * H, M = 1 + 2 * H;
      read_modes = softmax(reshape(slice(iface, 1, at, at + R * M), {B, R, M}), -1);
    }
  } else {
    Interface x = at_step(access->project(reshape(a, {B, 1, a.size(1)})));
    if (c_.positions == Positions::Rope) {
      x.read_keys = reshape(rope(reshape(x.read_keys, {B, 1, R, W}), t), {B, R, W});
      Tensor& k = x.write_keys;  // [B, H, S·W]
      k = reshape(rope(reshape(k, {B, 1, k.size(1) * c_.slices(), W}), t), k.shape());
    }
    write_step(c_, x, m, next);
    Tensor bias;
    if (c_.positions == Positions::Alibi)
      bias = reshape(alibi_bias(R, t, 1, next.slots(), a.dtype()), {1, R, next.slots()});
    words = read_step(c_, x, m, next, bias);
    read_modes = x.read_modes;
  }
  if (rec) {
    *rec = {next.read_weights.detach(), next.write_weights.detach(), next.usage.defined() ? next.usage.detach() : Tensor(),
            words.detach(),             next.keys.detach(),          next.values.defined() ? next.values.detach() : Tensor(),
            next.link.defined() ? next.link.detach() : Tensor(),
            next.precedence.defined() ? next.precedence.detach() : Tensor(),
            read_modes.defined() ? read_modes.detach() : Tensor()};
  }
  m = std::move(next);
  return words;
}

Tensor MachineLayer::step(const Tensor& x, int64_t t, LayerState& state, const InterfaceProjection::Fused* fused,
                          StepRecord* rec) const {
  SDNC_CHECK(x.ndim() == 2 && x.size(1) == in_, "machine", "layer input {} must be [B, {}]", shape_str(x.shape()), in_);
  const int64_t B = x.size(0), RW = c_.read_heads * c_.word_size;
  if (c_.recurrent()) {
    Tensor chi = concat({x, reshape(state.reads, {B, RW})}, 1);
    Tensor o = controller->step(chi, state.controller, &state.controller);
    state.reads = access_step(o, t, state, fused, rec);
    return concat({o, reshape(state.reads, {B, RW})}, 1);
  }
  const bool pre = c_.norm_first;
  const int64_t D = c_.d_model;
  Tensor xr = reshape(x, {B, 1, D});
  Tensor a = pre ? norm1->forward(xr) : xr;
  state.reads = access_step(reshape(a, {B, D}), t, state, fused, rec);
  Tensor y = add(xr, self_attn->out_proj->forward(reshape(state.reads, {B, 1, RW})));
  if (!pre) y = norm1->forward(y);
  Tensor z = pre ? add(y, ffn->forward(norm2->forward(y))) : norm2->forward(add(y, ffn->forward(y)));
  return reshape(z, {B, D});
}

Tensor MachineLayer::forward_parallel(const Tensor& x, Tensor* read_weights) const {
  if (!c_.has_parallel_form())
    fail("machine", "{} has no parallel form: {}", c_.dials_string(), c_.no_parallel_reason());
  SDNC_CHECK(x.ndim() == 3 && x.size(2) == c_.d_model, "machine", "input {} must be [B, T, {}]", shape_str(x.shape()),
             c_.d_model);
  const int64_t B = x.size(0), T = x.size(1), R = c_.read_heads, S = c_.slices(), W = c_.word_size;
  const bool pre = c_.norm_first;
  Tensor a = pre ? norm1->forward(x) : x;
  Interface ix = access->project(a);
  Tensor q4 = ix.read_keys;                                                          // [B, T, R, W]
  Tensor k4 = reshape(c_.key_value == KeyValue::Separate ? ix.write_keys : ix.write_values, {B, T, S, W});
  Tensor v4 = reshape(ix.write_values, {B, T, S, W});
  if (c_.positions == Positions::Rope) q4 = rope(q4, 0), k4 = rope(k4, 0);
  Tensor q = permute(q4, {0, 2, 1, 3});                                              // [B, R, T, W]
  Tensor k = permute(k4, {0, 2, 1, 3}), v = permute(v4, {0, 2, 1, 3});               // [B, S, T, W]
  if (S != R) {
    std::vector<int64_t> group(R);
    for (int64_t r = 0; r < R; ++r) group[r] = r / (R / S);
    Tensor idx = Tensor::from_indices(group, {R});
    k = index_select(k, 1, idx), v = index_select(v, 1, idx);                       // [B, R, T, W]
  }
  Tensor reads, w;
  if (c_.similarity == Similarity::Dot && c_.positions != Positions::Alibi) {
    AttentionOptions o;
    o.causal = true;
    o.scale = 1.0 / std::sqrt(static_cast<double>(W));
    reads = attention(q, k, v, Tensor(), o, read_weights ? &w : nullptr);
  } else {
    // The same scores as addressing.h's, for every position at once, then the causal mask.
    Tensor dots = matmul(q, transpose(k, 2, 3));  // [B, R, T, T]
    Tensor scores;
    if (c_.similarity == Similarity::Dot) {
      scores = mul_scalar(dots, 1.0 / std::sqrt(static_cast<double>(W)));
    } else {
      auto norm = [](const Tensor& z) { return sqrt(add_scalar(sum(mul(z, z), -1, true), kAddressingEpsilon)); };
      Tensor denom = add_scalar(matmul(norm(q), transpose(norm(k), 2, 3)), kAddressingEpsilon);
      Tensor beta = reshape(permute(apply_strength(c_.strength, ix.read_strengths), {0, 2, 1}), {B, R, T, 1});
      scores = mul(div(dots, denom), beta);
    }
    if (c_.positions == Positions::Alibi) scores = add(scores, alibi_bias(R, 0, T, T, x.dtype()));
    Tensor mask = Tensor::zeros({T, T}, DType::F64);
    for (int64_t i = 0; i < T; ++i)
      for (int64_t j = i + 1; j < T; ++j) mask.data<double>()[i * T + j] = -1e30;
    scores = add(scores, x.dtype() == DType::F64 ? mask : mask.to(x.dtype()));
    Tensor weights = softmax(scores, -1);
    reads = matmul(weights, v);  // [B, R, T, W]
    if (read_weights) w = weights.detach();
  }
  if (read_weights) *read_weights = permute(w, {0, 2, 1, 3});  // [B, T, R, T]
  Tensor merged = reshape(permute(reads, {0, 2, 1, 3}), {B, T, R * W});
  Tensor y = add(x, self_attn->out_proj->forward(merged));
  if (!pre) y = norm1->forward(y);
  return pre ? add(y, ffn->forward(norm2->forward(y))) : norm2->forward(add(y, ffn->forward(y)));
}

}  // namespace sdnc::machine
