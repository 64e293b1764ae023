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
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", c.tie_word_embeddings);
  r.reject_unknown({"model_type", "architectures", "n_ctx", "_name_or_path", "attn_pdrop", "embd_pdrop",
                    "resid_pdrop", "summary_type", "summary_use_proj", "summary_activation",
                    "summary_proj_to_labels", "summary_first_dropout", "initializer_range", "use_cache",
                    "bos_token_id", "eos_token_id", "pad_token_id", "task_specific_params", "torch_dtype",
                    "transformers_version", "reorder_and_upcast_attn", "id2label",
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
          {"layer_norm_epsilon", layer_norm_epsilon},
          {"tie_word_embeddings", tie_word_embeddings}};
}

Gpt2Model::Gpt2Model(const Gpt2Config& config) : config_(config) {
  wte = register_module("wte", std::make_shared<nn::Embedding>(config.vocab_size, config.n_embd));
  wpe = register_module("wpe", std::make_shared<nn::Embedding>(config.n_positions, config.n_embd));
  stack = register_module("", std::make_shared<machine::MachineStack>(machine_config(), config.n_embd, "h"));
  ln_f = register_module("ln_f", std::make_shared<nn::LayerNorm>(config.n_embd, config.layer_norm_epsilon));
  if (!config.tie_word_embeddings)
    lm_head = register_module("lm_head", std::make_shared<nn::Linear>(config.n_embd, config.vocab_size, false));
}

machine::MachineConfig Gpt2Model::machine_config() const {
  machine::MachineConfig c = machine::MachineConfig::transformer_corner();  // wpe: added outside the stack
  c.input_size = c.output_size = config_.n_embd;
  c.d_model = config_.n_embd, c.read_heads = config_.n_head, c.word_size = config_.n_embd / config_.n_head;
  c.write_heads = 1, c.layers = config_.n_layer;
  c.d_ffn = config_.n_inner > 0 ? config_.n_inner : 4 * config_.n_embd;
  c.activation = config_.activation_function;
  c.norm_first = true, c.layer_norm_eps = config_.layer_norm_epsilon;
  c.max_positions = config_.n_positions;
  c.naming = controllers::ParamNaming::GPT2;
  c.validate("gpt2");
  return c;
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

Tensor Gpt2Model::head(const Tensor& h) const { return linear(ln_f->forward(h), head_weight()); }

Tensor Gpt2Model::logits(const Tensor& tokens, Form form, Trace* trace) const {
  check_tokens(tokens, 0);
  if (form == Form::Recurrent && !trace && !grad_enabled()) {  // inference: decode position by position
    DecodeState state;
    std::vector<Tensor> steps;
    for (int64_t t = 0; t < tokens.size(1); ++t) steps.push_back(decode(slice(tokens, 1, t, t + 1), state));
    return steps.size() == 1 ? steps[0] : concat(steps, 1);
  }
  Trace machine_trace;
  Tensor h = stack->forward(embed(tokens, 0), form, trace ? &machine_trace : nullptr);
  if (trace)  // the stack's "h.{l}.read_weights" [B, T, R, n] → GPT-2's "layers.{l}.read_weights" [B, H, T, T]
    for (int64_t l = 0; l < config_.n_layer; ++l) {
      NoGradGuard no_grad;
      const Tensor& w = machine_trace.at(stack->layer_prefix(static_cast<size_t>(l)) + "read_weights");
      (*trace)["layers." + std::to_string(l) + ".read_weights"] = permute(w, {0, 2, 1, 3});
    }
  return head(h);
}

Tensor Gpt2Model::decode(const Tensor& tokens, DecodeState& state) const {
  check_tokens(tokens, state.position);
  NoGradGuard no_grad;
  if (!state.layers.empty() && state.layers[0].memory.keys.defined() &&
      state.layers[0].memory.keys.size(0) != tokens.size(0))
    fail("gpt2", "decode: tokens have batch {} but this state was started with batch {}", tokens.size(0),
         state.layers[0].memory.keys.size(0));
  Tensor x = embed(tokens, state.position);  // [B, n, D]
  if (tokens.size(1) == 1) {
    Tensor row = reshape(x, {tokens.size(0), config_.n_embd});
    if (stack->has_decode_step(row)) {
      Tensor logits = stack->decode_step(row, state, {ln_f->weight, ln_f->bias, head_weight()});
      return reshape(logits, {1, 1, config_.vocab_size});
    }
  }
  return head(stack->extend(x, state));
}

}  // namespace sdnc::models
