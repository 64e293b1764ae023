// bert.cpp — the BERT encoder as a bidirectional sDNC and the sentence embedding around it.
#include "sdnc/models/bert.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include "sdnc/autograd/grad_mode.h"
#include "sdnc/backend/cpu/packed_gemm.h"
#include "sdnc/core/error.h"
#include "sdnc/io/safetensors.h"
#include "sdnc/io/utf8.h"
#include "sdnc/ops/ops.h"

namespace sdnc::models {

namespace {

constexpr const char* kOp = "bert";
namespace fs = std::filesystem;

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(kOp, "{}: cannot open", path);
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception& e) {
    fail(kOp, "{}: not valid JSON ({})", path, e.what());
  }
}

// Runs `f`, which reads a parsed JSON file: a value of the wrong type (nlohmann's type_error,
// e.g. value() on an array, a string where a number belongs) becomes "[bert] <path>: ...".
template <class F>
auto json_read(const std::string& path, F&& f) {
  try {
    return f();
  } catch (const nlohmann::json::exception& e) {
    fail(kOp, "{}: {}", path, e.what());
  }
}

}  // namespace

BertConfig BertConfig::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) fail(kOp, "{}: not a JSON object", where);
  return json_read(where, [&] {
    BertConfig c;
    auto num = [&](const char* key) -> int64_t {
      if (!j.contains(key) || !j.at(key).is_number_integer())
        fail(kOp, "{}: key '{}' is missing or not an integer", where, key);
      const int64_t v = j.at(key).get<int64_t>();
      if (v <= 0 || v > (int64_t{1} << 24)) fail(kOp, "{}: key '{}' = {} is out of range", where, key, v);
      return v;
    };
    auto str = [&](const char* key, const char* expected) {
      const std::string v = j.value(key, std::string(expected));
      if (v != expected) fail(kOp, "{}: key '{}' is '{}'; only '{}' is supported", where, key, printable(v), expected);
    };
    str("model_type", "bert");
    str("hidden_act", "gelu");
    str("position_embedding_type", "absolute");
    c.layers = num("num_hidden_layers");
    c.d_model = num("hidden_size");
    c.heads = num("num_attention_heads");
    c.d_ffn = num("intermediate_size");
    c.vocab = num("vocab_size");
    c.max_positions = num("max_position_embeddings");
    c.type_vocab = num("type_vocab_size");
    c.layer_norm_eps = j.value("layer_norm_eps", 1e-12);
    if (c.d_model % c.heads != 0)
      fail(kOp, "{}: hidden_size {} is not a multiple of num_attention_heads {}", where, c.d_model, c.heads);
    return c;
  });
}

nlohmann::json BertConfig::machine_config() const {
  return {{"model_type", "machine"},  {"controller", "stateless"},   {"write", "append"},
          {"similarity", "dot"},      {"read_modes", "content"},     {"key_value", "separate"},
          {"positions", "learned"},   {"max_positions", max_positions}, {"norm", "layer"},
          {"norm_first", false},      {"activation", "gelu"},        {"bias", true},
          {"causal", false},          {"layer_norm_eps", layer_norm_eps}, {"layers", layers},
          {"d_model", d_model},       {"d_ffn", d_ffn},              {"read_heads", heads},
          {"write_heads", 1},         {"memory_slices", heads},      {"word_size", d_model / heads},
          {"input_vocab", vocab},     {"input_size", vocab},         {"output_size", d_model},
          {"clip_value", 0}};
}

BertEncoder BertEncoder::load(const std::string& dir) {
  BertEncoder m;
  const std::string config_path = (fs::path(dir) / "config.json").string();
  m.config_ = BertConfig::from_json(read_json(config_path), config_path);
  const BertConfig& c = m.config_;
  const std::string weights_path = (fs::path(dir) / "model.safetensors").string();
  SafetensorsFile st = load_safetensors(weights_path);
  // Hugging Face names with or without the "bert." prefix of BertForXxx checkpoints.
  auto take = [&](const std::string& name, std::vector<int64_t> shape) {
    auto it = st.tensors.find(name);
    if (it == st.tensors.end()) it = st.tensors.find("bert." + name);
    if (it == st.tensors.end()) fail(kOp, "{}: tensor '{}' is missing", weights_path, name);
    const Tensor& t = it->second;
    if (t.dtype() != DType::F32) fail(kOp, "{}: tensor '{}' is not floating point", weights_path, name);
    if (t.shape() != shape)
      fail(kOp, "{}: tensor '{}' has shape {} but config.json says {}", weights_path, name,
           fmt::format("{}", t.shape()), fmt::format("{}", shape));
    const float* p = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i)
      if (!std::isfinite(p[i])) fail(kOp, "{}: tensor '{}' holds a non-finite value at element {}", weights_path, name, i);
    return t;
  };
  const int64_t D = c.d_model, F = c.d_ffn;
  auto embedding = [&](const char* name, int64_t rows) {
    auto e = std::make_shared<nn::Embedding>(rows, D);
    e->load_state_dict({{"weight", take(fmt::format("embeddings.{}.weight", name), {rows, D})}});
    return e;
  };
  m.word_ = embedding("word_embeddings", c.vocab);
  m.position_ = embedding("position_embeddings", c.max_positions);
  m.token_type_ = embedding("token_type_embeddings", c.type_vocab);
  m.embedding_norm_ = std::make_shared<nn::LayerNorm>(D, c.layer_norm_eps);
  m.embedding_norm_->load_state_dict(
      {{"weight", take("embeddings.LayerNorm.weight", {D})}, {"bias", take("embeddings.LayerNorm.bias", {D})}});
  m.stack_ = std::make_shared<machine::MachineStack>(machine::MachineConfig::from_json(c.machine_config(), config_path), D);
  std::map<std::string, Tensor> state;
  NoGradGuard no_grad;
  for (int64_t l = 0; l < c.layers; ++l) {
    const std::string p = fmt::format("encoder.layer.{}.", l), to = m.stack_->layer_prefix(static_cast<size_t>(l));
    auto qkv = [&](const char* what, std::vector<int64_t> shape) {  // rows [Q ; K ; V]
      std::vector<Tensor> parts;
      for (const char* part : {"query", "key", "value"})
        parts.push_back(take(fmt::format("{}attention.self.{}.{}", p, part, what), shape));
      return concat(parts, 0);
    };
    state[to + "self_attn.in_proj_weight"] = qkv("weight", {D, D});
    state[to + "self_attn.in_proj_bias"] = qkv("bias", {D});
    auto linear = [&](const std::string& from, const std::string& name, int64_t out, int64_t in) {
      state[to + name + ".weight"] = take(p + from + ".weight", {out, in});
      state[to + name + ".bias"] = take(p + from + ".bias", {out});
    };
    linear("attention.output.dense", "self_attn.out_proj", D, D);
    linear("intermediate.dense", "linear1", F, D);
    linear("output.dense", "linear2", D, F);
    for (auto [from, name] : {std::pair{"attention.output.LayerNorm", "norm1"}, {"output.LayerNorm", "norm2"}}) {
      state[to + name + ".weight"] = take(p + from + ".weight", {D});
      state[to + name + ".bias"] = take(p + from + ".bias", {D});
    }
  }
  m.stack_->load_state_dict(state);
  m.stack_->pack_for_inference();  // frozen weights: the small-row products run packed (nn::Linear)
  return m;
}

std::vector<float> BertEncoder::encode(const std::vector<int64_t>& ids, Form form) const {
  return encode_batch({ids}, form)[0];
}

std::vector<std::vector<float>> BertEncoder::encode_batch(const std::vector<std::vector<int64_t>>& ids,
                                                          Form form) const {
  const BertConfig& c = config_;
  const int64_t B = static_cast<int64_t>(ids.size()), D = c.d_model;
  if (B == 0) return {};
  int64_t T = 0;
  for (const auto& seq : ids) {
    const int64_t n = static_cast<int64_t>(seq.size());
    if (n == 0) fail(kOp, "no tokens to encode");
    if (n > c.max_positions) fail(kOp, "{} tokens exceed the model's {} positions", n, c.max_positions);
    for (int64_t id : seq)
      if (id < 0 || id >= c.vocab) fail(kOp, "token id {} is outside the vocabulary [0, {})", id, c.vocab);
    T = std::max(T, n);
  }
  // Token ids [B, T] (padding: id 0, flagged), positions 0..T−1, token type 0.
  std::vector<int64_t> tokens(static_cast<size_t>(B * T), 0), flags(static_cast<size_t>(B * T), 0), positions;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      const auto& seq = ids[static_cast<size_t>(b)];
      if (t < static_cast<int64_t>(seq.size())) tokens[b * T + t] = seq[t];
      else flags[b * T + t] = 1;
      positions.push_back(t);
    }
  NoGradGuard no_grad;
  Tensor x = add(add(word_->forward(Tensor::from_indices(tokens, {B, T})),
                     position_->forward(Tensor::from_indices(positions, {B, T}))),
                 token_type_->forward(Tensor::zeros({B, T}, DType::I64)));  // [B, T, D]
  x = embedding_norm_->forward(x);
  const bool padded = std::find(flags.begin(), flags.end(), 1) != flags.end();
  Tensor h = stack_->forward(x, form == Form::Parallel ? models::Form::Parallel : models::Form::Recurrent, nullptr,
                             padded ? Tensor::from_indices(flags, {B, T}) : Tensor());
  std::vector<std::vector<float>> out;
  const float* p = h.data<float>();
  for (int64_t b = 0; b < B; ++b)
    out.emplace_back(p + b * T * D, p + (b * T + static_cast<int64_t>(ids[static_cast<size_t>(b)].size())) * D);
  return out;
}

SentenceEmbedder SentenceEmbedder::load(const std::string& dir) {
  const fs::path d(dir);
  std::error_code ec;
  if (!fs::is_directory(d, ec)) fail(kOp, "{}: not a model folder (config.json, model.safetensors, tokenizer)", dir);
  const fs::path tj = d / "tokenizer.json", vt = d / "vocab.txt";
  tokenizers::WordPiece tok = fs::exists(tj, ec) ? tokenizers::WordPiece::from_tokenizer_json(tj.string())
                              : fs::exists(vt, ec)
                                  ? tokenizers::WordPiece::from_vocab_txt(vt.string())
                                  : (fail(kOp, "{}: no tokenizer.json or vocab.txt", dir), tokenizers::WordPiece::from_vocab_txt(""));
  SentenceEmbedder e(BertEncoder::load(dir), std::move(tok));
  e.max_seq_length_ = e.encoder_.config().max_positions;
  if (fs::exists(d / "sentence_bert_config.json", ec)) {
    const auto path = (d / "sentence_bert_config.json").string();
    const nlohmann::json j = read_json(path);
    json_read(path, [&] {
      if (j.contains("max_seq_length")) {
        if (!j.at("max_seq_length").is_number_integer() || j.at("max_seq_length").get<int64_t>() < 2)
          fail(kOp, "{}: max_seq_length must be an integer >= 2", path);
        e.max_seq_length_ = std::min(e.max_seq_length_, j.at("max_seq_length").get<int64_t>());
      }
    });
  }
  if (fs::exists(d / "1_Pooling" / "config.json", ec)) {
    const auto path = (d / "1_Pooling" / "config.json").string();
    const nlohmann::json j = read_json(path);
    json_read(path, [&] {
      for (const char* mode : {"pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens",
                               "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"})
        if (j.value(mode, false)) fail(kOp, "{}: '{}' pooling is not supported (only mean pooling)", path, mode);
    });
  }
  if (fs::exists(d / "modules.json", ec)) {
    const auto path = (d / "modules.json").string();
    const nlohmann::json j = read_json(path);
    json_read(path, [&] {
      for (const auto& m : j)
        if (m.value("type", "").find("Normalize") != std::string::npos) e.normalize_ = true;
    });
  }
  return e;
}

std::vector<int64_t> SentenceEmbedder::tokens(const std::string& text) const {
  std::vector<int64_t> ids = tokenizer_.encode(text);
  if (static_cast<int64_t>(ids.size()) > max_seq_length_) {  // keep [CLS] … [SEP]
    const int64_t sep = ids.back();
    ids.resize(static_cast<size_t>(max_seq_length_));
    ids.back() = sep;
  }
  return ids;
}

std::vector<float> SentenceEmbedder::embed(const std::string& text, BertEncoder::Form form) const {
  return embed_tokens({tokens(text)}, form)[0];
}

std::vector<std::vector<float>> SentenceEmbedder::embed_tokens(const std::vector<std::vector<int64_t>>& ids,
                                                               BertEncoder::Form form) const {
  const int64_t D = encoder_.config().d_model;
  std::vector<size_t> order(ids.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ids[a].size() < ids[b].size(); });
  std::vector<std::vector<float>> out(ids.size());
  const bool packed = cpu::packed_gemm_available();
  const size_t max_rows = packed ? static_cast<size_t>(kPackedRows) : SIZE_MAX;
  for (size_t first = 0, end = 0; first < order.size(); first = end) {
    // A batch: up to kBatch sequences of one length (packed kernel) or of lengths within 12.5%
    // (or 2 tokens) of the shortest, and (after the first) at most max_rows positions (sorted:
    // the newest is the longest).
    const size_t shortest = ids[order[first]].size(),
                 longest = packed ? shortest : shortest + std::max<size_t>(2, shortest / 8);
    std::vector<std::vector<int64_t>> batch;
    for (end = first; end < order.size() && end - first < kBatch && ids[order[end]].size() <= longest &&
                      (end == first || (end - first + 1) * ids[order[end]].size() <= max_rows);
         ++end)
      batch.push_back(ids[order[end]]);
    const std::vector<std::vector<float>> hidden = encoder_.encode_batch(batch, form);
    for (size_t i = 0; i < batch.size(); ++i) {  // mean over the sequence's own positions, then L2
      const int64_t T = static_cast<int64_t>(batch[i].size());
      std::vector<double> sum(static_cast<size_t>(D), 0.0);
      for (int64_t t = 0; t < T; ++t)
        for (int64_t j = 0; j < D; ++j) sum[j] += hidden[i][t * D + j];
      double norm = 0;
      for (int64_t j = 0; j < D; ++j) norm += (sum[j] / T) * (sum[j] / T);
      const double scale = normalize_ ? 1.0 / std::max(std::sqrt(norm), 1e-12) : 1.0;
      std::vector<float>& e = out[order[first + i]];
      e.resize(static_cast<size_t>(D));
      for (int64_t j = 0; j < D; ++j) e[j] = static_cast<float>(sum[j] / T * scale);
    }
  }
  return out;
}

}  // namespace sdnc::models
