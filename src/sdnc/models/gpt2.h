// gpt2.h — a decoder-only language model with the GPT-2 architecture, built as a stack of
// causal sDNC layers: learned token and position embeddings, pre-LN layers with tanh-GELU,
// a final LayerNorm, and logits from the tied token embedding (or an untied lm_head).
//
// Loads and saves Hugging Face GPT-2 checkpoints unchanged: config.json (n_embd, n_head,
// n_layer, n_positions, vocab_size, layer_norm_epsilon, n_inner, activation_function; keys
// that do not change the forward pass are ignored) and model.safetensors with GPT-2 names
// (wte.weight, wpe.weight, h.{l}.ln_1.weight, h.{l}.attn.c_attn.weight [D, 3D] Conv1D
// layout, ..., ln_f.weight), with or without a "transformer." prefix; the attention-mask
// buffers h.{l}.attn.bias / masked_bias are ignored; lm_head.weight is the tied wte (checked
// equal) unless config.json says "tie_word_embeddings": false, when it is the model's own head.
// The layers are one machine::MachineStack (machine_config()).
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sdnc/machine/machine_stack.h"
#include "sdnc/models/trace.h"
#include "sdnc/nn/layers.h"

namespace sdnc::models {

struct Gpt2Config {
  int64_t vocab_size = 50257, n_positions = 1024, n_embd = 768, n_layer = 12, n_head = 12;
  int64_t n_inner = 0;  // 0 → 4·n_embd
  std::string activation_function = "gelu_new";
  double layer_norm_epsilon = 1e-5;
  bool tie_word_embeddings = true;  // false: an own lm_head.weight [V, D] (kept, not dropped)

  // Reads a Hugging Face GPT-2 config; `where` names the file in error messages.
  static Gpt2Config from_json(const nlohmann::json& j, const std::string& where);
  nlohmann::json to_json() const;
};

class Gpt2Model : public nn::Module {
 public:
  explicit Gpt2Model(const Gpt2Config& config);
  const Gpt2Config& config() const { return config_; }
  // The memory machine every layer is: stateless, pre-LN, causal, unbounded append memory,
  // dot-product content reads, separate keys and values, R = n_head read heads of W =
  // n_embd / n_head, GPT-2's parameter names (positions are added by wpe, outside the stack).
  machine::MachineConfig machine_config() const;

  // GPT-2's initialisation: N(0, 0.02) weights, zero biases, LayerNorm 1/0.
  void init(Generator& g);

  // tokens I64 [B, T] → logits [B, T, V]. Both forms record autograd: parallel (every position
  // at once) and recurrent (the stack's time-major steps: each layer writes one slot and reads
  // its memory per position). Without autograd and trace the recurrent form decodes position
  // by position (decode()). With trace, "layers.{l}.read_weights" [B, H, T, T] are recorded.
  Tensor logits(const Tensor& tokens, Form form = Form::Parallel, Trace* trace = nullptr) const;

  // Incremental decoding state: the stack's per-layer memories (the KV cache), slot-major,
  // growing in place (capacity doubling) for one sequence; position = tokens fed so far.
  using DecodeState = machine::MachineStack::State;
  // Feeds tokens [B, n] at positions state.position.. and returns their logits [B, n, V]. Every
  // call of one state must have the same B. No autograd. One token of one sequence (F32) runs
  // as one op (ops/decode_step.h, MachineStack::decode_step: the whole step on preallocated
  // buffers, shared with helper threads); otherwise the stack's chunk form (MachineStack::
  // extend: a prompt in one parallel pass). Both give the parallel form's logits (to F32 rounding).
  Tensor decode(const Tensor& tokens, DecodeState& state) const;

  std::shared_ptr<nn::Embedding> wte, wpe;
  std::shared_ptr<machine::MachineStack> stack;  // layers "h.{l}."
  std::shared_ptr<nn::LayerNorm> ln_f;
  std::shared_ptr<nn::Linear> lm_head;  // only when tie_word_embeddings is false
  const Tensor& head_weight() const { return lm_head ? lm_head->weight : wte->weight; }  // [V, D]

 private:
  void check_tokens(const Tensor& tokens, int64_t first_position) const;
  Tensor embed(const Tensor& tokens, int64_t first_position) const;
  Tensor head(const Tensor& h) const;  // LN_f, then the head: [B, n, D] → [B, n, V]
  Gpt2Config config_;
};

// Checkpoints: models/model.h (load_model / save_model).

}  // namespace sdnc::models
