#include "sdnc/machine/machine_layer.h"

#include <cmath>

#include "sdnc/machine/addressing.h"
#include "sdnc/machine/positions.h"
#include "sdnc/machine/read_heads.h"
#include "sdnc/machine/write_head.h"
#include "sdnc/ops/allocate_access.h"
#include "sdnc/ops/ops.h"

namespace sdnc::machine {

QkvProjection::QkvProjection(int64_t D, int64_t rows, int64_t read_width, bool bias, controllers::ParamNaming naming) {
  if (naming == controllers::ParamNaming::GPT2) {
    in_proj = register_module("c_attn", std::make_shared<nn::Linear>(D, rows, bias, nn::WeightLayout::Conv1D));
    out_proj = register_module("c_proj", std::make_shared<nn::Linear>(read_width, D, bias, nn::WeightLayout::Conv1D));
    return;
  }
  in_proj = register_module("", std::make_shared<nn::Linear>(D, rows, bias, nn::WeightLayout::Linear,
                                                             "in_proj_weight", "in_proj_bias"));
  out_proj = register_module("out_proj", std::make_shared<nn::Linear>(read_width, D, bias));
}

namespace {
// bias [B, 1, n] (−1e30 at hidden slots) → [B, 1, 1]: 1 for a row with a slot to read, 0 for a
// row with none, which reads nothing (zero weights), as the attention kernel does.
Tensor live_rows(const Tensor& bias) {
  const int64_t B = bias.size(0), n = bias.size(2);
  auto v = bias.to_doubles();
  Tensor live = Tensor::zeros({B, 1, 1}, DType::F64);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < n; ++j)
      if (v[static_cast<size_t>(b * n + j)] > -1e29) {
        live.data<double>()[b] = 1.0;
        break;
      }
  return bias.dtype() == DType::F64 ? live : live.to(bias.dtype());
}
}  // namespace

namespace {
// Keys or values x [B, n, S, W] as one block per read head: [B, R, n, W] (addressing.h's
// per_head_slices: head r reads slice r·S/R).
Tensor per_head(const Tensor& x, int64_t R) {
  const int64_t B = x.size(0), n = x.size(1), S = x.size(2), W = x.size(3);
  return reshape(per_head_slices(reshape(x, {B, n, S * W}), S, R), {B, R, n, W});
}

// padding [B, T] (nonzero: padded) → [B, 1, T] with −1e30 at padded slots, in dtype.
Tensor padding_bias(const Tensor& padding, DType dtype) {
  const int64_t B = padding.size(0), T = padding.size(1);
  Tensor p = Tensor::zeros({B, 1, T}, DType::F64);
  auto flags = padding.to_doubles();
  for (int64_t i = 0; i < B * T; ++i)
    if (flags[static_cast<size_t>(i)] != 0) p.data<double>()[i] = -1e30;
  return dtype == DType::F64 ? p : p.to(dtype);
}
}  // namespace

std::shared_ptr<nn::Norm> make_norm(const MachineConfig& c, int64_t dim) {
  if (c.norm == Norm::Rms) return std::make_shared<nn::RmsNorm>(dim, c.layer_norm_eps);
  return std::make_shared<nn::LayerNorm>(dim, c.layer_norm_eps);
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
  const auto activation = controllers::parse_activation(c.activation);
  if (c.naming == controllers::ParamNaming::GPT2) {  // GPT-2's names, in its checkpoint order
    norm1 = register_module("ln_1", make_norm(c, c.d_model));
    self_attn = register_module("attn", std::make_shared<QkvProjection>(c.d_model, InterfaceProjection::qkv_width(c),
                                                                        RW, c.bias, c.naming));
    norm2 = register_module("ln_2", make_norm(c, c.d_model));
    ffn = register_module("mlp", std::make_shared<controllers::FeedForward>(c.d_model, c.d_ffn, activation, c.naming,
                                                                           c.bias));
    access = register_module("access", std::make_shared<InterfaceProjection>(c, c.d_model, self_attn->in_proj));
    return;
  }
  // Registration order = SequenceSdnc's (torch.nn.TransformerEncoderLayer's) checkpoint order.
  self_attn = register_module(
      "self_attn", std::make_shared<QkvProjection>(c.d_model, InterfaceProjection::qkv_width(c), RW, c.bias));
  if (c.cross_reads)  // torch.nn.TransformerDecoderLayer's order and names
    cross_attn = register_module(
        "multihead_attn", std::make_shared<QkvProjection>(c.d_model, RW + 2 * c.slices() * c.word_size, RW, c.bias));
  ffn = register_module("", std::make_shared<controllers::FeedForward>(c.d_model, c.d_ffn, activation,
                                                                        controllers::ParamNaming::Torch, c.bias));
  norm1 = register_module("norm1", make_norm(c, c.d_model));
  if (c.cross_reads) norm_cross = register_module("norm2", make_norm(c, c.d_model));
  norm2 = register_module(c.cross_reads ? "norm3" : "norm2", make_norm(c, c.d_model));
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
  if (cross_attn) cross_attn->in_proj->init_uniform(g), cross_attn->out_proj->init_uniform(g);
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
    Tensor iface = fused->project(a);  // [B, I]: one GEMM for every part
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
    if (c_.positions == Positions::Rope) rotate_step(x, t);
    write_step(c_, x, m, next);
    Tensor bias;
    if (c_.positions == Positions::Alibi)
      bias = reshape(alibi_bias(R, t, 1, next.slots(), a.dtype()), {1, R, next.slots()});
    if (state.hidden.defined()) bias = bias.defined() ? add(bias, state.hidden) : state.hidden;
    words = read_step(c_, x, m, next, bias);
    if (state.hidden.defined()) {  // a position with no unpadded slot so far reads nothing
      Tensor live = live_rows(state.hidden);
      words = mul(words, live), next.read_weights = mul(next.read_weights, live);
    }
    read_modes = x.read_modes;
  }
  if (rec) {
    *rec = {next.read_weights.detach(), next.write_weights.detach(), next.usage.defined() ? next.usage.detach() : Tensor(),
            words.detach(),             next.keys.detach(),          next.values.defined() ? next.values.detach() : Tensor(),
            next.link.defined() ? next.link.detach() : Tensor(),
            next.precedence.defined() ? next.precedence.detach() : Tensor(),
            read_modes.defined() ? read_modes.detach() : Tensor(), Tensor()};
  }
  m = std::move(next);
  return words;
}

Tensor MachineLayer::step(const Tensor& x, int64_t t, LayerState& state, const InterfaceProjection::Fused* fused,
                          StepRecord* rec, const Tensor& pad) const {
  SDNC_CHECK(x.ndim() == 2 && x.size(1) == in_, "machine", "layer input {} must be [B, {}]", shape_str(x.shape()), in_);
  const int64_t B = x.size(0), RW = c_.read_heads * c_.word_size;
  if (c_.recurrent()) {
    Tensor chi = concat({x, reshape(state.reads, {B, RW})}, 1);
    Tensor o = controller->step(chi, state.controller, &state.controller);
    state.reads = access_step(o, t, state, fused, rec);
    return concat({o, reshape(state.reads, {B, RW})}, 1);
  }
  if (!c_.causal)
    fail("machine", "a bidirectional layer (causal=false) reads slots written after its step: it has no step form; "
                    "run the whole sequence (forward)");
  if (pad.defined() || state.hidden.defined()) {  // this step's slot: hidden if its position is padding
    SDNC_CHECK(c_.write == Write::Append && !c_.bounded(), "machine",
               "padding needs an unbounded append memory (slot t holds position t)");
    const int64_t n_prev = state.memory.slots();
    Tensor col = pad.defined() ? padding_bias(reshape(pad, {B, 1}), x.dtype()) : Tensor::zeros({B, 1, 1}, x.dtype());
    if (!state.hidden.defined() && n_prev > 0) state.hidden = Tensor::zeros({B, 1, n_prev}, x.dtype());
    state.hidden = state.hidden.defined() ? concat({state.hidden, col}, 2) : col;
  }
  const int64_t D = c_.d_model, R = c_.read_heads, W = c_.word_size;
  Tensor xr = reshape(x, {B, 1, D});
  Tensor a = c_.norm_first ? norm1->forward(xr) : xr;
  state.reads = access_step(reshape(a, {B, D}), t, state, fused, rec);
  std::function<Tensor(const Tensor&)> cross;
  if (cross_attn) {
    SDNC_CHECK(state.cross.keys.defined(), "machine", "a layer with cross_reads steps only after write_cross");
    cross = [&](const Tensor& a2) {  // [B, 1, D] → [B, 1, R·W]
      Tensor q = reshape(cross_attn->in_proj->forward_part(a2, 0, RW), {B, R, W});
      Tensor w = content_weights(Similarity::Dot, c_.strength, state.cross.keys, q, c_.slices(), Tensor(),
                                 state.cross_bias);
      if (state.cross_bias.defined()) w = mul(w, live_rows(state.cross_bias));  // fully padded: reads nothing
      if (rec) rec->cross_read_weights = w.detach();
      return reshape(read_slices(w, state.cross.values, c_.slices()), {B, 1, RW});
    };
  }
  return reshape(stateless_output(xr, reshape(state.reads, {B, 1, RW}), cross), {B, D});
}

Tensor MachineLayer::extend(const Tensor& x, int64_t t, LayerState& state) const {
  if (!c_.has_chunk_form())
    fail("machine", "{} has no chunk form (it needs a causal stateless layer with an unbounded append memory, "
                    "dot-product content reads, no alibi, no cross_reads)", c_.dials_string());
  SDNC_CHECK(x.ndim() == 3 && x.size(2) == c_.d_model, "machine", "chunk input {} must be [B, n, {}]",
             shape_str(x.shape()), c_.d_model);
  SDNC_CHECK(!state.hidden.defined(), "machine", "the chunk form takes no padding (use steps)");
  const int64_t B = x.size(0), n = x.size(1), S = c_.slices(), W = c_.word_size;
  Tensor a = c_.norm_first ? norm1->forward(x) : x;
  Interface ix = access->project(a);
  Tensor q4 = ix.read_keys;                                                          // [B, n, R, W]
  Tensor k4 = reshape(c_.key_value == KeyValue::Separate ? ix.write_keys : ix.write_values, {B, n, S, W});
  if (c_.positions == Positions::Rope) q4 = rotate(q4, t), k4 = rotate(k4, t);
  MemoryState& m = state.memory;
  Tensor key_buffer, value_buffer;
  m.keys = append_rows(m.keys, m.key_buffer, reshape(k4, {B, n, S * W}), key_buffer);
  m.key_buffer = key_buffer;
  if (c_.key_value == KeyValue::Separate) {
    m.values = append_rows(m.values, m.value_buffer, reshape(ix.write_values, {B, n, S * W}), value_buffer);
    m.value_buffer = value_buffer;
  }
  m.read_weights = Tensor(), m.write_weights = Tensor();
  const int64_t N = m.slots();
  Tensor merged = attend(q4, reshape(m.keys, {B, N, S, W}), reshape(m.read_source(), {B, N, S, W}), Tensor(),
                         /*causal=*/true, nullptr);  // position t+i sees slots ≤ t+i
  return stateless_output(x, merged);
}

void MachineLayer::write_cross(const CrossSource& source, LayerState& state) const {
  SDNC_CHECK(cross_attn, "machine", "write_cross: this layer has no cross reads (cross_reads=false)");
  const Tensor& m = source.memory;
  SDNC_CHECK(m.ndim() == 3 && m.size(2) == c_.d_model, "machine", "the other machine's memory {} must be [B, S, {}]",
             shape_str(m.shape()), c_.d_model);
  const int64_t RW = c_.read_heads * c_.word_size, SW = c_.slices() * c_.word_size;
  state.cross.keys = cross_attn->in_proj->forward_part(m, RW, RW + SW);             // [B, S, S·W]
  state.cross.values = cross_attn->in_proj->forward_part(m, RW + SW, RW + 2 * SW);  // [B, S, S·W]
  state.cross_bias = source.padding.defined() ? padding_bias(source.padding, m.dtype()) : Tensor();
}

Tensor MachineLayer::stateless_output(const Tensor& x, const Tensor& merged,
                                      const std::function<Tensor(const Tensor&)>& cross) const {
  const bool pre = c_.norm_first;
  Tensor y = add(x, self_attn->out_proj->forward(merged));
  if (!pre) y = norm1->forward(y);
  if (cross_attn) {  // the other machine's memory: y += W_o'·read(q' = W_q'·LN(y))
    y = add(y, cross_attn->out_proj->forward(cross(pre ? norm_cross->forward(y) : y)));
    if (!pre) y = norm_cross->forward(y);
  }
  return pre ? add(y, ffn->forward(norm2->forward(y))) : norm2->forward(add(y, ffn->forward(y)));
}

Tensor MachineLayer::attend(const Tensor& q4, const Tensor& k4, const Tensor& v4, const Tensor& padding, bool causal,
                            Tensor* weights) const {
  const int64_t B = q4.size(0), T = q4.size(1), R = c_.read_heads, W = c_.word_size;
  Tensor q = permute(q4, {0, 2, 1, 3});                 // [B, R, T, W]
  Tensor k = per_head(k4, R), v = per_head(v4, R);      // [B, R, n, W]
  AttentionOptions o;
  o.causal = causal;
  o.scale = 1.0 / std::sqrt(static_cast<double>(W));
  Tensor w;
  Tensor reads = attention(q, k, v, padding, o, weights ? &w : nullptr);  // [B, R, T, W]
  if (weights) *weights = permute(w, {0, 2, 1, 3});                       // [B, T, R, n]
  return reshape(permute(reads, {0, 2, 1, 3}), {B, T, R * W});
}

Tensor MachineLayer::rotate(const Tensor& x4, int64_t first) const { return rope(x4, first, c_.rope_theta); }

void MachineLayer::rotate_step(Interface& x, int64_t t) const {
  const int64_t B = x.read_keys.size(0), R = c_.read_heads, W = c_.word_size;
  x.read_keys = reshape(rotate(reshape(x.read_keys, {B, 1, R, W}), t), {B, R, W});
  Tensor& k = x.write_keys;  // [B, H, S·W]
  k = reshape(rotate(reshape(k, {B, 1, k.size(1) * c_.slices(), W}), t), k.shape());
}

Tensor MachineLayer::forward_bidirectional_steps(const Tensor& x, const Tensor& padding,
                                                 std::vector<StepRecord>* records) const {
  SDNC_CHECK(!c_.causal && x.ndim() == 3 && x.size(2) == c_.d_model, "machine",
             "the bidirectional steps need causal=false and input [B, T, {}], got {}", c_.d_model,
             shape_str(x.shape()));
  const int64_t B = x.size(0), T = x.size(1), R = c_.read_heads, W = c_.word_size;
  Tensor a = c_.norm_first ? norm1->forward(x) : x;
  // Writes: slot t ← position t's key and value, one step at a time.
  MemoryState m = initial_memory(c_, B, x.dtype());
  std::vector<Interface> steps;
  for (int64_t t = 0; t < T; ++t) {
    Interface it = at_step(access->project(slice(a, 1, t, t + 1)));
    if (c_.positions == Positions::Rope) rotate_step(it, t);
    MemoryState next;
    write_step(c_, it, m, next);
    m = std::move(next);
    steps.push_back(std::move(it));
  }
  // Reads: every position reads the full memory; padded slots get −∞ scores.
  Tensor bias = padding.defined() ? padding_bias(padding, x.dtype()) : Tensor();
  std::vector<Tensor> reads;
  for (int64_t t = 0; t < T; ++t) {
    MemoryState full = m;
    Tensor words = read_step(c_, steps[static_cast<size_t>(t)], m, full, bias);  // [B, R, W]
    if (bias.defined()) {  // a fully padded sequence reads nothing
      Tensor live = live_rows(bias);
      words = mul(words, live), full.read_weights = mul(full.read_weights, live);
    }
    if (records) {
      StepRecord r;
      r.read_weights = full.read_weights.detach(), r.read_words = words.detach(), r.keys = m.keys.detach();
      if (m.values.defined()) r.values = m.values.detach();
      records->push_back(std::move(r));
    }
    reads.push_back(reshape(words, {B, 1, R * W}));
  }
  return stateless_output(x, T == 1 ? reads[0] : concat(reads, 1));
}

Tensor MachineLayer::forward_parallel(const Tensor& x, Tensor* read_weights, const Tensor& padding,
                                     const CrossSource* cross, Tensor* cross_read_weights) const {
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
  if (c_.positions == Positions::Rope) q4 = rotate(q4, 0), k4 = rotate(k4, 0);
  Tensor merged;  // [B, T, R·W]
  if (c_.similarity == Similarity::Dot && c_.positions != Positions::Alibi) {
    merged = attend(q4, k4, v4, padding, c_.causal, read_weights);
  } else {
    Tensor q = permute(q4, {0, 2, 1, 3});             // [B, R, T, W]
    Tensor k = per_head(k4, R), v = per_head(v4, R);  // [B, R, T, W]

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
    // The mask [B, 1, T, T]: slots after the query (causal) and padded slots get −∞.
    // A row with no slot to read (fully padded) reads nothing: live [B, 1, T, 1] is 0 there.
    auto flags = padding.defined() ? padding.to_doubles() : std::vector<double>();
    Tensor mask = Tensor::zeros({B, 1, T, T}, DType::F64), live = Tensor::ones({B, 1, T, 1}, DType::F64);
    double *mk = mask.data<double>(), *lv = live.data<double>();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < T; ++i) {
        bool any = false;
        for (int64_t j = 0; j < T; ++j)
          if ((c_.causal && j > i) || (!flags.empty() && flags[static_cast<size_t>(b * T + j)] != 0))
            mk[(b * T + i) * T + j] = -1e30;
          else
            any = true;
        if (!any) lv[b * T + i] = 0.0;
      }
    auto in_dtype = [&](const Tensor& t) { return x.dtype() == DType::F64 ? t : t.to(x.dtype()); };
    scores = add(scores, in_dtype(mask));
    Tensor weights = mul(softmax(scores, -1), in_dtype(live));
    merged = reshape(permute(matmul(weights, v), {0, 2, 1, 3}), {B, T, R * W});
    if (read_weights) *read_weights = permute(weights.detach(), {0, 2, 1, 3});  // [B, T, R, T]
  }
  std::function<Tensor(const Tensor&)> cross_reads;
  if (cross_attn) {
    SDNC_CHECK(cross && cross->memory.defined(), "machine",
               "a layer with cross_reads needs the memory of the machine it reads (a CrossSource)");
    cross_reads = [&](const Tensor& a2) {  // [B, T, D] → [B, T, R·W]
      const Tensor& m = cross->memory;
      const int64_t n = m.size(1), RW = R * W, SW = S * W;
      Tensor q = reshape(cross_attn->in_proj->forward_part(a2, 0, RW), {B, T, R, W});
      Tensor k = reshape(cross_attn->in_proj->forward_part(m, RW, RW + SW), {B, n, S, W});
      Tensor v = reshape(cross_attn->in_proj->forward_part(m, RW + SW, RW + 2 * SW), {B, n, S, W});
      return attend(q, k, v, cross->padding, /*causal=*/false, cross_read_weights);
    };
  }
  return stateless_output(x, merged, cross_reads);
}


}  // namespace sdnc::machine
