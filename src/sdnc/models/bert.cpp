// bert.cpp — the BERT encoder as a bidirectional sDNC and the sentence embedding around it.
#include "sdnc/models/bert.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sdnc/backend/cpu/attention.h"
#include "sdnc/backend/cpu/gemm.h"
#include "sdnc/backend/cpu/gemv.h"
#include "sdnc/backend/cpu/layer_norm.h"
#include "sdnc/core/error.h"
#include "sdnc/core/parallel.h"
#include "sdnc/io/safetensors.h"
#include "sdnc/io/utf8.h"

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

inline float gelu_erf(float v) { return 0.5f * v * (1.0f + std::erf(v * 0.70710678118654752f)); }

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
          {"write_heads", heads},     {"memory_slices", heads},      {"word_size", d_model / heads},
          {"input_vocab", vocab},     {"input_size", d_model},       {"output_size", d_model}};
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
    return std::vector<float>(p, p + t.numel());
  };
  const int64_t D = c.d_model, F = c.d_ffn;
  m.word_ = take("embeddings.word_embeddings.weight", {c.vocab, D});
  m.pos_ = take("embeddings.position_embeddings.weight", {c.max_positions, D});
  m.type_ = take("embeddings.token_type_embeddings.weight", {c.type_vocab, D});
  m.ln_g_ = take("embeddings.LayerNorm.weight", {D});
  m.ln_b_ = take("embeddings.LayerNorm.bias", {D});
  for (int64_t l = 0; l < c.layers; ++l) {
    const std::string p = fmt::format("encoder.layer.{}.", l);
    Layer L;
    L.wq = take(p + "attention.self.query.weight", {D, D});
    L.bq = take(p + "attention.self.query.bias", {D});
    L.wk = take(p + "attention.self.key.weight", {D, D});
    L.bk = take(p + "attention.self.key.bias", {D});
    L.wv = take(p + "attention.self.value.weight", {D, D});
    L.bv = take(p + "attention.self.value.bias", {D});
    L.wo = take(p + "attention.output.dense.weight", {D, D});
    L.bo = take(p + "attention.output.dense.bias", {D});
    L.ln1_g = take(p + "attention.output.LayerNorm.weight", {D});
    L.ln1_b = take(p + "attention.output.LayerNorm.bias", {D});
    L.w1 = take(p + "intermediate.dense.weight", {F, D});
    L.b1 = take(p + "intermediate.dense.bias", {F});
    L.w2 = take(p + "output.dense.weight", {D, F});
    L.b2 = take(p + "output.dense.bias", {D});
    L.ln2_g = take(p + "output.LayerNorm.weight", {D});
    L.ln2_b = take(p + "output.LayerNorm.bias", {D});
    m.layers_.push_back(std::move(L));
  }
  return m;
}

std::vector<float> BertEncoder::encode(const std::vector<int64_t>& ids, Form form) const {
  const BertConfig& c = config_;
  const int64_t T = static_cast<int64_t>(ids.size()), D = c.d_model, F = c.d_ffn, R = c.heads, W = D / R;
  if (T == 0) fail(kOp, "no tokens to encode");
  if (T > c.max_positions) fail(kOp, "{} tokens exceed the model's {} positions", T, c.max_positions);
  std::vector<float> x(T * D), tmp(T * D), q(T * D), k(T * D), v(T * D), r(T * D), h(T * F);
  for (int64_t t = 0; t < T; ++t) {
    if (ids[t] < 0 || ids[t] >= c.vocab) fail(kOp, "token id {} is outside the vocabulary [0, {})", ids[t], c.vocab);
    for (int64_t i = 0; i < D; ++i) tmp[t * D + i] = word_[ids[t] * D + i] + pos_[t * D + i] + type_[i];
    cpu::layer_norm_row(tmp.data() + t * D, ln_g_.data(), ln_b_.data(), D, c.layer_norm_eps, x.data() + t * D);
  }
  // y [T, N] = in [T, K] · Wᵀ + b: one GEMM (parallel) or one product per position (recurrent).
  auto linear = [&](const std::vector<float>& w, const std::vector<float>& b, const float* in, int64_t K,
                    int64_t N, float* out, cpu::RowEpilogue epilogue) {
    if (form == Form::Parallel) {
      cpu::gemm(false, true, T, N, K, 1.0f, in, K, w.data(), K, 0.0f, out, N);
      parallel_for(T, 1, [&](int64_t t0, int64_t t1) {
        for (int64_t i = t0 * N; i < t1 * N; ++i) {
          const float s = out[i] + b[i % N];
          out[i] = epilogue == cpu::RowEpilogue::Gelu ? gelu_erf(s) : s;
        }
      });
    } else {
      for (int64_t t = 0; t < T; ++t)  // one step: this position's row
        parallel_for(N, 64, [&](int64_t o0, int64_t o1) {
          cpu::rows_times_weight_t(1, K, in + t * K, K, w.data(), b.data(), out + t * N, N, o0, o1, epilogue);
        });
    }
  };
  const float scale = 1.0f / std::sqrt(static_cast<float>(W));
  std::vector<float> Ks(T * W * R), Vs(T * W * R);  // the memory: per slice [T, W]
  for (const Layer& L : layers_) {
    // Writes: every position's key and value into its slot of each slice.
    linear(L.wk, L.bk, x.data(), D, D, k.data(), cpu::RowEpilogue::Store);
    linear(L.wv, L.bv, x.data(), D, D, v.data(), cpu::RowEpilogue::Store);
    for (int64_t s = 0; s < R; ++s)
      for (int64_t t = 0; t < T; ++t) {
        std::copy_n(k.data() + t * D + s * W, W, Ks.data() + (s * T + t) * W);
        std::copy_n(v.data() + t * D + s * W, W, Vs.data() + (s * T + t) * W);
      }
    // Reads: every position's R heads over all T slots.
    linear(L.wq, L.bq, x.data(), D, D, q.data(), cpu::RowEpilogue::Store);
    parallel_for(T * R, 1, [&](int64_t b0, int64_t b1) {
      std::vector<float> scores(static_cast<size_t>(T));
      for (int64_t i = b0; i < b1; ++i) {
        const int64_t t = i / R, s = i % R;
        cpu::attention_one_query(q.data() + t * D + s * W, Ks.data() + s * T * W, Vs.data() + s * T * W, T, W, W,
                                 scale, scores.data(), r.data() + t * D + s * W);
      }
    });
    linear(L.wo, L.bo, r.data(), D, D, tmp.data(), cpu::RowEpilogue::Store);
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t i = 0; i < D; ++i) tmp[t * D + i] += x[t * D + i];
      cpu::layer_norm_row(tmp.data() + t * D, L.ln1_g.data(), L.ln1_b.data(), D, c.layer_norm_eps, x.data() + t * D);
    }
    linear(L.w1, L.b1, x.data(), D, F, h.data(), cpu::RowEpilogue::Gelu);
    linear(L.w2, L.b2, h.data(), F, D, tmp.data(), cpu::RowEpilogue::Store);
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t i = 0; i < D; ++i) tmp[t * D + i] += x[t * D + i];
      cpu::layer_norm_row(tmp.data() + t * D, L.ln2_g.data(), L.ln2_b.data(), D, c.layer_norm_eps, x.data() + t * D);
    }
  }
  return x;
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

std::vector<float> SentenceEmbedder::embed(const std::string& text, BertEncoder::Form form) const {
  std::vector<int64_t> ids = tokenizer_.encode(text);
  if (static_cast<int64_t>(ids.size()) > max_seq_length_) {  // keep [CLS] … [SEP]
    const int64_t sep = ids.back();
    ids.resize(static_cast<size_t>(max_seq_length_));
    ids.back() = sep;
  }
  const int64_t T = static_cast<int64_t>(ids.size()), D = encoder_.config().d_model;
  const std::vector<float> hidden = encoder_.encode(ids, form);
  std::vector<double> sum(static_cast<size_t>(D), 0.0);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < D; ++i) sum[i] += hidden[t * D + i];
  std::vector<float> out(static_cast<size_t>(D));
  double norm = 0;
  for (int64_t i = 0; i < D; ++i) norm += (sum[i] / T) * (sum[i] / T);
  const double scale = normalize_ ? 1.0 / std::max(std::sqrt(norm), 1e-12) : 1.0;
  for (int64_t i = 0; i < D; ++i) out[i] = static_cast<float>(sum[i] / T * scale);
  return out;
}

}  // namespace sdnc::models
