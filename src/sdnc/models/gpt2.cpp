#include "sdnc/models/gpt2.h"

#include <cstring>

#include "sdnc/autograd/grad_mode.h"
#include "sdnc/io/config.h"
#include "sdnc/ops/ops.h"

namespace sdnc::models {

using nlohmann::json;

Gpt2Config Gpt2Config::from_json(const json& j, const std::string& where) {
  io::ConfigReader r(j, where);
  Gpt2Config c;
  c.vocab_size = r.positive_int("vocab_size", c.vocab_size);
  c.n_positions = r.positive_int("n_positions", c.n_positions);
  c.n_embd = r.positive_int("n_embd", c.n_embd);
  c.n_layer = r.positive_int("n_layer", c.n_layer);
  c.n_head = r.positive_int("n_head", c.n_head);
  c.n_inner = r.optional_positive_int("n_inner", 0);
  c.activation_function = r.string("activation_function", c.activation_function);
  c.layer_norm_epsilon = r.positive_number("layer_norm_epsilon", c.layer_norm_epsilon);
  if (c.n_embd % c.n_head != 0)
    fail("config", "{}: n_embd {} is not divisible by n_head {}", where, c.n_embd, c.n_head);
  controllers::parse_activation(c.activation_function);
  // Hugging Face keys that would change the arithmetic: accepted at the value sdnc computes.
  auto must_be = [&](const char* key, bool expected) {
    if (r.boolean(key, expected) != expected)
      fail("config", "{}: key '{}' = {} is not supported (sdnc's GPT-2 computes {})", where, key, !expected, expected);
  };
  must_be("scale_attn_weights", true);
  must_be("scale_attn_by_inverse_layer_idx", false);
  must_be("add_cross_attention", false);
  // Hugging Face keys that do not change inference (dropouts, token ids, heads for other tasks,
  // bookkeeping) are accepted and ignored; anything else is a typo or an unsupported feature.
  r.reject_unknown({"model_type", "architectures", "n_ctx", "_name_or_path", "attn_pdrop", "embd_pdrop",
                    "resid_pdrop", "summary_type", "summary_use_proj", "summary_activation",
                    "summary_proj_to_labels", "summary_first_dropout", "initializer_range", "use_cache",
                    "bos_token_id", "eos_token_id", "pad_token_id", "task_specific_params", "torch_dtype",
                    "transformers_version", "reorder_and_upcast_attn", "tie_word_embeddings", "id2label",
                    "label2id", "output_past", "gradient_checkpointing", "n_special", "predict_special_tokens",
                    "tokenizer_class", "prefix", "return_dict", "output_hidden_states", "output_attentions"});
  return c;
}

json Gpt2Config::to_json() const {
  return {{"model_type", "gpt2"},
          {"architectures", {"GPT2LMHeadModel"}},
          {"vocab_size", vocab_size},
          {"n_positions", n_positions},
          {"n_ctx", n_positions},
          {"n_embd", n_embd},
          {"n_layer", n_layer},
          {"n_head", n_head},
          {"n_inner", n_inner > 0 ? json(n_inner) : json(nullptr)},
          {"activation_function", activation_function},
          {"layer_norm_epsilon", layer_norm_epsilon}};
}

Gpt2Model::Gpt2Model(const Gpt2Config& config) : config_(config) {
  wte = register_module("wte", std::make_shared<nn::Embedding>(config.vocab_size, config.n_embd));
  wpe = register_module("wpe", std::make_shared<nn::Embedding>(config.n_positions, config.n_embd));
  LayerConfig lc;
  lc.controller.d_model = config.n_embd;
  lc.controller.n_heads = config.n_head;
  lc.controller.d_ffn = config.n_inner > 0 ? config.n_inner : 4 * config.n_embd;
  lc.controller.activation = controllers::parse_activation(config.activation_function);
  lc.controller.norm_first = true;
  lc.controller.ln_eps = config.layer_norm_epsilon;
  lc.controller.naming = controllers::ParamNaming::GPT2;
  for (int64_t l = 0; l < config.n_layer; ++l)
    h.push_back(register_module("h." + std::to_string(l), std::make_shared<SdncLayer>(lc)));
  ln_f = register_module("ln_f", std::make_shared<nn::LayerNorm>(config.n_embd, config.layer_norm_epsilon));
}

void Gpt2Model::init(Generator& g) {
  for (auto& [name, p] : named_parameters()) {
    Tensor t = p;
    bool is_norm = name.find("ln_") != std::string::npos;
    bool is_bias = name.size() >= 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
    if (is_norm) t.fill(is_bias ? 0.0 : 1.0);
    else if (is_bias) t.fill(0.0);
    else g.fill_normal(t, 0.0, 0.02);
  }
}

void Gpt2Model::check_tokens(const Tensor& tokens, int64_t first_position) const {
  const char* op = "gpt2";
  if (!tokens.defined() || tokens.dtype() != DType::I64 || tokens.ndim() != 2)
    fail(op, "tokens must be integer [B, T], got {}", tokens.defined() ? shape_str(tokens.shape()) : "nothing");
  if (tokens.numel() == 0) fail(op, "tokens are empty (shape {})", shape_str(tokens.shape()));
  if (first_position + tokens.size(1) > config_.n_positions)
    fail(op, "sequence of {} positions exceeds n_positions {}", first_position + tokens.size(1), config_.n_positions);
  const int64_t* p = tokens.data<int64_t>();
  for (int64_t i = 0; i < tokens.numel(); ++i)
    if (p[i] < 0 || p[i] >= config_.vocab_size)
      fail(op, "token {} at [{}, {}] is outside the vocabulary [0, {})", p[i], i / tokens.size(1),
           i % tokens.size(1), config_.vocab_size);
}

Tensor Gpt2Model::embed(const Tensor& tokens, int64_t first_position) const {
  std::vector<int64_t> pos(tokens.size(1));
  for (size_t i = 0; i < pos.size(); ++i) pos[i] = first_position + static_cast<int64_t>(i);
  return add(wte->forward(tokens), wpe->forward(Tensor::from_indices(pos, {tokens.size(1)})));
}

Tensor Gpt2Model::logits(const Tensor& tokens, Form form, Trace* trace) const {
  check_tokens(tokens, 0);
  if (form == Form::Parallel) {
    Tensor x = embed(tokens, 0);
    for (size_t l = 0; l < h.size(); ++l) {
      ParallelContext ctx;
      ctx.causal = true;
      Tensor w;
      if (trace) ctx.self_weights = &w;
      x = h[l]->forward_parallel(x, ctx);
      if (trace) (*trace)["layers." + std::to_string(l) + ".read_weights"] = w;
    }
    return linear(ln_f->forward(x), wte->weight);
  }
  // Recurrent: one position per step; each layer writes one slot and reads its memory.
  int64_t B = tokens.size(0), T = tokens.size(1);
  if (!trace) {  // decode() one position at a time (the single-token path where it applies)
    DecodeState state;
    std::vector<Tensor> steps;
    for (int64_t t = 0; t < T; ++t) steps.push_back(decode(slice(tokens, 1, t, t + 1), state));
    NoGradGuard no_grad;
    return concat(steps, 1);
  }
  DecodeState state;
  std::vector<Tensor> steps;
  std::vector<Tensor> weights(h.size());
  if (trace)
    for (auto& w : weights) w = Tensor::zeros({B, config_.n_head, T, T}, wte->weight.dtype());
  for (int64_t t = 0; t < T; ++t) {
    std::vector<int64_t> col(B);
    for (int64_t b = 0; b < B; ++b) col[b] = tokens.data<int64_t>()[b * T + t];
    NoGradGuard no_grad;
    Tensor x = embed(Tensor::from_indices(col, {B, 1}), t);
    if (state.layers.empty()) state.layers.resize(h.size());
    for (size_t l = 0; l < h.size(); ++l) {
      Tensor w;
      x = h[l]->step(x, state.layers[l], true, true, Tensor(), trace ? &w : nullptr);
      if (trace) place_read_weights_row(weights[l], w, t);  // w [B, H, 1, t+1] → row t
    }
    steps.push_back(linear(ln_f->forward(x), wte->weight));
  }
  if (trace)
    for (size_t l = 0; l < h.size(); ++l) (*trace)["layers." + std::to_string(l) + ".read_weights"] = weights[l];
  NoGradGuard no_grad;
  return concat(steps, 1);
}

Tensor Gpt2Model::decode(const Tensor& tokens, DecodeState& state) const {
  check_tokens(tokens, state.position);
  NoGradGuard no_grad;
  if (state.layers.empty()) state.layers.resize(h.size());
  if (state.layers.size() != h.size())
    fail("gpt2", "decode state has {} layers, the model {}", state.layers.size(), h.size());
  const auto& first = state.layers[0].self;
  if (first.capacity() > 0 && first.batch() != tokens.size(0))
    fail("gpt2", "decode: tokens have batch {} but this state was started with batch {}", tokens.size(0),
         first.batch());
  if (single_token_path_applies(tokens)) return decode_single_token(tokens, state);
  Tensor x = embed(tokens, state.position);
  for (size_t l = 0; l < h.size(); ++l) x = h[l]->step(x, state.layers[l], true, true);
  state.position += tokens.size(1);
  return linear(ln_f->forward(x), wte->weight);
}

}  // namespace sdnc::models
