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

machine::MachineConfig TransformerConfig::machine_config(bool decoder) const {
  // The model adds its learned positions to the embeddings: none inside the layers.
  machine::MachineConfig c = machine::MachineConfig::transformer_corner();
  c.causal = decoder;
  c.cross_reads = decoder;
  c.input_size = c.output_size = d_model;  // a stack alone: no input map, no head
  c.d_model = d_model, c.d_ffn = dim_feedforward;
  c.read_heads = nhead, c.memory_slices = nhead, c.word_size = d_model / nhead;
  c.layers = decoder ? num_decoder_layers : num_encoder_layers;
  c.activation = activation, c.norm_first = norm_first, c.layer_norm_eps = layer_norm_eps;
  c.clip_value = 0;
  c.validate(decoder ? "decoder" : "encoder");
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
// The read weights of a machine stack's trace [B, T, R, n] as attention's [B, H, T, n], under
// the model's names ("layers.{l}." + what, prefixed).
void put_read_weights(const machine::MachineStack& stack, const Trace& parts, const char* what,
                      const std::string& prefix, Trace& trace) {
  for (size_t l = 0; l < stack.layers.size(); ++l) {
    auto it = parts.find(stack.layer_prefix(l) + what);
    if (it != parts.end()) trace[prefix + stack.layer_prefix(l) + what] = permute(it->second, {0, 2, 1, 3});
  }
}
}  // namespace

// ---- EncoderModel ------------------------------------------------------------------------

EncoderModel::EncoderModel(const TransformerConfig& c) : config_(c) {
  embed = register_module("embed", std::make_shared<nn::Embedding>(c.vocab_size, c.d_model));
  pos_embed = register_module("pos_embed", std::make_shared<nn::Embedding>(c.max_positions, c.d_model));
  encoder = register_module("encoder", std::make_shared<machine::MachineStack>(c.machine_config(false), c.d_model));
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
  if (trace) put_read_weights(*encoder, parts, "read_weights", "", *trace);
  return head->forward(y);
}

// ---- EncoderDecoderModel -----------------------------------------------------------------

EncoderDecoderModel::EncoderDecoderModel(const TransformerConfig& c) : config_(c) {
  src_embed = register_module("src_embed", std::make_shared<nn::Embedding>(c.vocab_size, c.d_model));
  tgt_embed = register_module("tgt_embed", std::make_shared<nn::Embedding>(c.vocab_size, c.d_model));
  pos_embed = register_module("pos_embed", std::make_shared<nn::Embedding>(c.max_positions, c.d_model));
  encoder = register_module("transformer.encoder",
                            std::make_shared<machine::MachineStack>(c.machine_config(false), c.d_model));
  if (c.final_norm)
    encoder_norm =
        register_module("transformer.encoder.norm", std::make_shared<nn::LayerNorm>(c.d_model, c.layer_norm_eps));
  decoder = register_module("transformer.decoder",
                            std::make_shared<machine::MachineStack>(c.machine_config(true), c.d_model));
  if (c.final_norm)
    decoder_norm =
        register_module("transformer.decoder.norm", std::make_shared<nn::LayerNorm>(c.d_model, c.layer_norm_eps));
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
  // The encoder writes its memory (every slot before any read); the decoder reads it while
  // writing and reading its own, causally (in the recurrent form one target position per step).
  Trace parts_enc, parts_dec;
  Tensor memory = encoder->forward(embed_tokens(*src_embed, src, 0), form, trace ? &parts_enc : nullptr, src_pad);
  if (encoder_norm) memory = encoder_norm->forward(memory);
  machine::CrossSource source{memory, src_pad};
  Tensor y = decoder->forward(embed_tokens(*tgt_embed, tgt, 0), form, trace ? &parts_dec : nullptr, tgt_pad,
                              /*fused=*/true, &source);
  if (decoder_norm) y = decoder_norm->forward(y);
  if (trace) {  // [B, H, S, S] encoder, [B, H, T, T] decoder, [B, H, T, S] cross
    put_read_weights(*encoder, parts_enc, "read_weights", "encoder.", *trace);
    put_read_weights(*decoder, parts_dec, "read_weights", "", *trace);
    put_read_weights(*decoder, parts_dec, "cross_read_weights", "", *trace);
  }
  return generator->forward(y);
}

}  // namespace sdnc::models
