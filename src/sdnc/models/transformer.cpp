#include "sdnc/models/transformer.h"

#include <cmath>
#include <cstring>

#include "sdnc/autograd/grad_mode.h"
#include "sdnc/io/config.h"
#include "sdnc/ops/ops.h"

namespace sdnc::models {

using nlohmann::json;

TransformerConfig TransformerConfig::from_json(const json& j, const std::string& where) {
  io::ConfigReader r(j, where);
  TransformerConfig c;
  c.model_type = r.string("model_type", c.model_type);
  if (c.model_type != "encoder" && c.model_type != "encoder_decoder")
    fail("config", "{}: model_type '{}' is not 'encoder' or 'encoder_decoder'", where, c.model_type);
  c.d_model = r.positive_int("d_model", c.d_model);
  c.nhead = r.positive_int("nhead", c.nhead);
  c.num_encoder_layers = r.positive_int("num_encoder_layers", c.num_encoder_layers);
  c.num_decoder_layers = r.positive_int("num_decoder_layers", c.num_decoder_layers);
  c.dim_feedforward = r.positive_int("dim_feedforward", c.dim_feedforward);
  c.activation = r.string("activation", c.activation);
  c.norm_first = r.boolean("norm_first", c.norm_first);
  c.layer_norm_eps = r.positive_number("layer_norm_eps", c.layer_norm_eps);
  c.final_norm = r.boolean("final_norm", c.final_norm);
  c.vocab_size = r.positive_int("vocab_size", c.vocab_size);
  c.max_positions = r.positive_int("max_positions", c.max_positions);
  c.pad_token_id = r.has("pad_token_id") ? r.non_negative_int("pad_token_id", -1) : -1;
  if (c.d_model % c.nhead != 0) fail("config", "{}: d_model {} is not divisible by nhead {}", where, c.d_model, c.nhead);
  controllers::parse_activation(c.activation);
  r.reject_unknown();
  return c;
}

json TransformerConfig::to_json() const {
  json j = {{"model_type", model_type},         {"d_model", d_model},
            {"nhead", nhead},                   {"num_encoder_layers", num_encoder_layers},
            {"dim_feedforward", dim_feedforward}, {"activation", activation},
            {"norm_first", norm_first},         {"layer_norm_eps", layer_norm_eps},
            {"final_norm", final_norm},         {"vocab_size", vocab_size},
            {"max_positions", max_positions}};
  if (model_type == "encoder_decoder") j["num_decoder_layers"] = num_decoder_layers;
  if (pad_token_id >= 0) j["pad_token_id"] = pad_token_id;
  return j;
}

LayerConfig TransformerConfig::layer_config(bool cross) const {
  LayerConfig lc;
  lc.controller.d_model = d_model;
  lc.controller.n_heads = nhead;
  lc.controller.d_ffn = dim_feedforward;
  lc.controller.activation = controllers::parse_activation(activation);
  lc.controller.norm_first = norm_first;
  lc.controller.ln_eps = layer_norm_eps;
  lc.controller.naming = controllers::ParamNaming::Torch;
  lc.controller.cross = cross;
  return lc;
}

machine::MachineConfig TransformerConfig::encoder_machine_config() const {
  machine::MachineConfig c;
  c.controller = machine::Controller::Stateless;
  c.write = machine::Write::Append;
  c.similarity = machine::Similarity::Dot;
  c.read_modes = machine::ReadModes::Content;
  c.key_value = machine::KeyValue::Separate;
  c.positions = machine::Positions::None;  // the model adds its learned positions to the embeddings
  c.causal = false;
  c.input_size = c.output_size = d_model;  // a stack alone: no input map, no head
  c.d_model = d_model, c.d_ffn = dim_feedforward;
  c.read_heads = nhead, c.memory_slices = nhead, c.word_size = d_model / nhead;
  c.layers = num_encoder_layers;
  c.activation = activation, c.norm_first = norm_first, c.layer_norm_eps = layer_norm_eps;
  c.clip_value = 0;
  c.validate("encoder");
  return c;
}

// ---- token helpers ---------------------------------------------------------------------

void check_tokens(const char* op, const Tensor& tokens, int64_t vocab, int64_t max_positions, const char* name) {
  if (!tokens.defined() || tokens.dtype() != DType::I64 || tokens.ndim() != 2)
    fail(op, "{} must be integer [B, T], got {}", name,
         tokens.defined() ? dtype_name(tokens.dtype()) + std::string(" ") + shape_str(tokens.shape()) : "nothing");
  if (tokens.numel() == 0) fail(op, "{} are empty (shape {})", name, shape_str(tokens.shape()));
  if (tokens.size(1) > max_positions)
    fail(op, "{} have {} positions, more than max_positions {}", name, tokens.size(1), max_positions);
  const int64_t* p = tokens.data<int64_t>();
  for (int64_t i = 0; i < tokens.numel(); ++i)
    if (p[i] < 0 || p[i] >= vocab)
      fail(op, "{} token {} at [{}, {}] is outside the vocabulary [0, {})", name, p[i], i / tokens.size(1),
           i % tokens.size(1), vocab);
}

Tensor padding_from_tokens(const Tensor& tokens, int64_t pad_token_id) {
  if (pad_token_id < 0) return Tensor();
  Tensor pad = Tensor::zeros(tokens.shape(), DType::I64);
  bool any = false;
  for (int64_t i = 0; i < tokens.numel(); ++i)
    if (tokens.data<int64_t>()[i] == pad_token_id) pad.data<int64_t>()[i] = 1, any = true;
  return any ? pad : Tensor();
}

namespace {
// Columns [t, t+1) of a [B, T] tensor (or undefined).
Tensor column(const Tensor& x, int64_t t) {
  if (!x.defined()) return Tensor();
  int64_t B = x.size(0), T = x.size(1);
  std::vector<int64_t> v(B);
  for (int64_t b = 0; b < B; ++b) v[b] = x.data<int64_t>()[b * T + t];
  return Tensor::from_indices(v, {B, 1});
}

// Copies w [B, H, 1, S'] into row t of full [B, H, T, S] (S' <= S).
void put_row(Tensor& full, const Tensor& w, int64_t t) {
  int64_t BH = full.size(0) * full.size(1), T = full.size(2), S = full.size(3), Sw = w.size(3);
  size_t width = dtype_size(full.dtype());
  for (int64_t bh = 0; bh < BH; ++bh)
    std::memcpy(static_cast<char*>(full.raw_data()) + ((bh * T + t) * S) * width,
                static_cast<const char*>(w.raw_data()) + bh * Sw * width, Sw * width);
}

std::string layer_key(const std::string& prefix, size_t l, const char* what) {
  return prefix + "layers." + std::to_string(l) + "." + what;
}
}  // namespace

// ---- stacks ------------------------------------------------------------------------------

SdncStack::SdncStack(const TransformerConfig& config, int64_t num_layers, bool is_decoder) : decoder(is_decoder) {
  for (int64_t l = 0; l < num_layers; ++l)
    layers.push_back(register_module("layers." + std::to_string(l),
                                     std::make_shared<SdncLayer>(config.layer_config(is_decoder))));
  if (config.final_norm)
    norm = register_module("norm", std::make_shared<nn::LayerNorm>(config.d_model, config.layer_norm_eps));
}

Tensor SdncStack::forward_parallel(const Tensor& x, const Tensor& padding, const Tensor& source,
                                   const Tensor& source_padding, Trace* trace, const std::string& prefix) const {
  Tensor y = x;
  for (size_t l = 0; l < layers.size(); ++l) {
    ParallelContext ctx;
    ctx.causal = decoder;
    ctx.padding = padding;
    ctx.cross_source = source;
    ctx.cross_padding = source_padding;
    Tensor w, cw;
    if (trace) ctx.self_weights = &w, ctx.cross_weights = decoder ? &cw : nullptr;
    y = layers[l]->forward_parallel(y, ctx);
    if (trace) {
      (*trace)[layer_key(prefix, l, "read_weights")] = w;
      if (decoder) (*trace)[layer_key(prefix, l, "cross_read_weights")] = cw;
    }
  }
  return norm ? norm->forward(y) : y;
}

Tensor SdncStack::encode_recurrent(const Tensor& x, const Tensor& padding, Trace* trace,
                                   const std::string& prefix) const {
  NoGradGuard no_grad;
  int64_t T = x.size(1);
  Tensor y = x;
  for (size_t l = 0; l < layers.size(); ++l) {
    LayerMemories mem;
    std::vector<Tensor> cols;
    for (int64_t t = 0; t < T; ++t) cols.push_back(slice(y, 1, t, t + 1));
    for (int64_t t = 0; t < T; ++t)  // all writes ...
      layers[l]->step(cols[t], mem, /*write=*/true, /*read=*/false, column(padding, t));
    std::vector<Tensor> outs;
    Tensor full;
    if (trace) full = Tensor::zeros({x.size(0), layers[l]->controller->config().n_heads, T, T}, x.dtype());
    for (int64_t t = 0; t < T; ++t) {  // ... then all reads
      Tensor w;
      outs.push_back(layers[l]->step(cols[t], mem, /*write=*/false, /*read=*/true, Tensor(), trace ? &w : nullptr));
      if (trace) put_row(full, w, t);
    }
    if (trace) (*trace)[layer_key(prefix, l, "read_weights")] = full;
    y = concat(outs, 1);
  }
  return norm ? norm->forward(y) : y;
}

// ---- EncoderModel ------------------------------------------------------------------------

EncoderModel::EncoderModel(const TransformerConfig& c) : config_(c) {
  embed = register_module("embed", std::make_shared<nn::Embedding>(c.vocab_size, c.d_model));
  pos_embed = register_module("pos_embed", std::make_shared<nn::Embedding>(c.max_positions, c.d_model));
  const machine::MachineConfig mc = c.encoder_machine_config();
  encoder = register_module("encoder", std::make_shared<machine::MachineStack>(mc, c.d_model));
  if (c.final_norm)
    encoder_norm = register_module("encoder.norm", std::make_shared<nn::LayerNorm>(c.d_model, c.layer_norm_eps));
  head = register_module("head", std::make_shared<nn::Linear>(c.d_model, c.vocab_size));
}

namespace {
void init_transformer(nn::Module& m, Generator& g) {
  for (auto& [name, p] : m.named_parameters()) {
    Tensor t = p;
    bool is_norm = name.find("norm") != std::string::npos;
    bool is_bias = name.find("bias") != std::string::npos;
    if (is_norm) t.fill(is_bias ? 0.0 : 1.0);
    else if (t.ndim() == 1) g.fill_uniform(t, -0.1, 0.1);
    else if (name.find("embed") != std::string::npos) g.fill_normal(t, 0.0, 1.0 / std::sqrt(static_cast<double>(t.size(1))));
    else {
      double bound = std::sqrt(6.0 / static_cast<double>(t.size(0) + t.size(1)));  // Xavier uniform
      g.fill_uniform(t, -bound, bound);
    }
  }
}

Tensor embed_with_positions(const nn::Embedding& table, const nn::Embedding& positions, const Tensor& tokens,
                            int64_t first, int64_t d_model) {
  std::vector<int64_t> pos(tokens.size(1));
  for (size_t i = 0; i < pos.size(); ++i) pos[i] = first + static_cast<int64_t>(i);
  Tensor e = mul_scalar(table.forward(tokens), std::sqrt(static_cast<double>(d_model)));
  return add(e, positions.forward(Tensor::from_indices(pos, {tokens.size(1)})));
}
}  // namespace

void EncoderModel::init(Generator& g) { init_transformer(*this, g); }

Tensor EncoderModel::logits(const Tensor& tokens, Form form, Trace* trace) const {
  check_tokens("encoder", tokens, config_.vocab_size, config_.max_positions, "tokens");
  Tensor pad = padding_from_tokens(tokens, config_.pad_token_id);
  Tensor x = embed_with_positions(*embed, *pos_embed, tokens, 0, config_.d_model);
  Trace parts;
  Tensor y = encoder->forward(x, form, trace ? &parts : nullptr, pad);
  if (encoder_norm) y = encoder_norm->forward(y);
  if (trace)  // the read weights, as attention's [B, H, T, T] (the machine's are [B, T, R, T])
    for (size_t l = 0; l < encoder->layers.size(); ++l)
      (*trace)[encoder->layer_prefix(l) + "read_weights"] =
          permute(parts.at(encoder->layer_prefix(l) + "read_weights"), {0, 2, 1, 3});
  return head->forward(y);
}

// ---- EncoderDecoderModel -----------------------------------------------------------------

EncoderDecoderModel::EncoderDecoderModel(const TransformerConfig& c) : config_(c) {
  src_embed = register_module("src_embed", std::make_shared<nn::Embedding>(c.vocab_size, c.d_model));
  tgt_embed = register_module("tgt_embed", std::make_shared<nn::Embedding>(c.vocab_size, c.d_model));
  pos_embed = register_module("pos_embed", std::make_shared<nn::Embedding>(c.max_positions, c.d_model));
  encoder = register_module("transformer.encoder", std::make_shared<SdncStack>(c, c.num_encoder_layers, false));
  decoder = register_module("transformer.decoder", std::make_shared<SdncStack>(c, c.num_decoder_layers, true));
  generator = register_module("generator", std::make_shared<nn::Linear>(c.d_model, c.vocab_size));
}

void EncoderDecoderModel::init(Generator& g) { init_transformer(*this, g); }

Tensor EncoderDecoderModel::embed_tokens(const nn::Embedding& table, const Tensor& tokens, int64_t first) const {
  return embed_with_positions(table, *pos_embed, tokens, first, config_.d_model);
}

Tensor EncoderDecoderModel::logits(const Tensor& src, const Tensor& tgt, Form form, Trace* trace) const {
  check_tokens("encoder_decoder", src, config_.vocab_size, config_.max_positions, "src");
  check_tokens("encoder_decoder", tgt, config_.vocab_size, config_.max_positions, "tgt");
  if (src.size(0) != tgt.size(0))
    fail("encoder_decoder", "src batch {} != tgt batch {}", src.size(0), tgt.size(0));
  Tensor src_pad = padding_from_tokens(src, config_.pad_token_id);
  Tensor tgt_pad = padding_from_tokens(tgt, config_.pad_token_id);
  if (form == Form::Parallel) {
    Tensor memory = encoder->forward_parallel(embed_tokens(*src_embed, src, 0), src_pad, Tensor(), Tensor(), trace,
                                              "encoder.");
    Tensor y = decoder->forward_parallel(embed_tokens(*tgt_embed, tgt, 0), tgt_pad, memory, src_pad, trace, "");
    return generator->forward(y);
  }
  NoGradGuard no_grad;
  // The encoder writes its memory once ...
  Tensor memory = encoder->encode_recurrent(embed_tokens(*src_embed, src, 0), src_pad, trace, "encoder.");
  size_t L = decoder->layers.size();
  std::vector<LayerMemories> mems(L);
  for (size_t l = 0; l < L; ++l) decoder->layers[l]->write_cross_memory(memory, src_pad, mems[l]);
  // ... and the decoder reads it at every step while writing its own memory.
  int64_t B = tgt.size(0), T = tgt.size(1), S = src.size(1), H = config_.nhead;
  std::vector<Tensor> self_w(L), cross_w(L);
  if (trace)
    for (size_t l = 0; l < L; ++l)
      self_w[l] = Tensor::zeros({B, H, T, T}, memory.dtype()), cross_w[l] = Tensor::zeros({B, H, T, S}, memory.dtype());
  std::vector<Tensor> steps;
  for (int64_t t = 0; t < T; ++t) {
    Tensor x = embed_tokens(*tgt_embed, column(tgt, t), t);
    for (size_t l = 0; l < L; ++l) {
      Tensor w, cw;
      x = decoder->layers[l]->step(x, mems[l], true, true, column(tgt_pad, t), trace ? &w : nullptr,
                                   trace ? &cw : nullptr);
      if (trace) put_row(self_w[l], w, t), put_row(cross_w[l], cw, t);
    }
    steps.push_back(generator->forward(decoder->norm ? decoder->norm->forward(x) : x));
  }
  if (trace)
    for (size_t l = 0; l < L; ++l) {
      (*trace)[layer_key("", l, "read_weights")] = self_w[l];
      (*trace)[layer_key("", l, "cross_read_weights")] = cross_w[l];
    }
  return concat(steps, 1);
}

}  // namespace sdnc::models
