// gpt2.h — a decoder-only language model with the GPT-2 architecture, built as a stack of
// causal sDNC layers: learned token and position embeddings, pre-LN layers with tanh-GELU,
// a final LayerNorm, and logits from the tied token embedding.
//
// Loads and saves Hugging Face GPT-2 checkpoints unchanged: config.json (n_embd, n_head,
// n_layer, n_positions, vocab_size, layer_norm_epsilon, n_inner, activation_function; keys
// that do not change the forward pass are ignored) and model.safetensors with GPT-2 names
// (wte.weight, wpe.weight, h.{l}.ln_1.weight, h.{l}.attn.c_attn.weight [D, 3D] Conv1D
// layout, ..., ln_f.weight), with or without a "transformer." prefix; the attention-mask
// buffers h.{l}.attn.bias / masked_bias and a tied lm_head.weight are accepted and ignored.
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sdnc/models/sdnc_layer.h"
#include "sdnc/models/trace.h"

namespace sdnc::models {

struct Gpt2Config {
  int64_t vocab_size = 50257, n_positions = 1024, n_embd = 768, n_layer = 12, n_head = 12;
  int64_t n_inner = 0;  // 0 → 4·n_embd
  std::string activation_function = "gelu_new";
  double layer_norm_epsilon = 1e-5;

  // Reads a Hugging Face GPT-2 config; `where` names the file in error messages.
  static Gpt2Config from_json(const nlohmann::json& j, const std::string& where);
  nlohmann::json to_json() const;
};

class Gpt2Model : public nn::Module {
 public:
  explicit Gpt2Model(const Gpt2Config& config);
  const Gpt2Config& config() const { return config_; }

  // GPT-2's initialisation: N(0, 0.02) weights, zero biases, LayerNorm 1/0.
  void init(Generator& g);

  // tokens I64 [B, T] → logits [B, T, V]. Parallel form records autograd; the recurrent
  // form runs one position at a time through the layers' write-once memories (no grad).
  // With trace, "layers.{l}.read_weights" [B, H, T, T] are recorded.
  Tensor logits(const Tensor& tokens, Form form = Form::Parallel, Trace* trace = nullptr) const;

  // Scratch buffers of the single-token decoding path (models/gpt2_decode.cpp).
  struct DecodeWorkspace;
  // Incremental decoding state: one write-once memory per layer (the KV cache), whose
  // capacity doubles as it fills. The workspace holds no state, only reused buffers (a
  // copied state shares them: decode the copies on one thread at a time).
  struct DecodeState {
    std::vector<LayerMemories> layers;
    int64_t position = 0;
    std::shared_ptr<DecodeWorkspace> workspace;
  };
  // Feeds tokens [B, n] at positions state.position.. and returns their logits [B, n, V].
  // Every call of one state must have the same B. No autograd. A single token per sequence
  // (n = 1, B ≤ cpu::kGemvMaxRows, F32) takes the lean path: preallocated buffers, fused
  // LayerNorm + matrix-vector products, the keys and values written straight into the
  // memory, the blocks of the step shared with helper threads (core/worker_team.h);
  // otherwise the layers' recurrent step (GEMMs).
  // Both give the parallel form's logits (to F32 rounding).
  Tensor decode(const Tensor& tokens, DecodeState& state) const;

  std::shared_ptr<nn::Embedding> wte, wpe;
  std::vector<std::shared_ptr<SdncLayer>> h;
  std::shared_ptr<nn::LayerNorm> ln_f;

 private:
  void check_tokens(const Tensor& tokens, int64_t first_position) const;
  bool single_token_path_applies(const Tensor& tokens) const;
  Tensor decode_single_token(const Tensor& tokens, DecodeState& state) const;  // gpt2_decode.cpp
  Tensor embed(const Tensor& tokens, int64_t first_position) const;
  Gpt2Config config_;
};

// Checkpoints: models/model.h (load_model / save_model).

}  // namespace sdnc::models
