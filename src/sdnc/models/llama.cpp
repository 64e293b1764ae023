// llama.cpp — the Llama decoder as a causal sDNC: loading (metadata → config, tensors checked
// against it, Q/K rows un-permuted), the recurrent step and the parallel forward.
#include "sdnc/models/llama.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "sdnc/backend/cpu/attention.h"
#include "sdnc/backend/cpu/gemm.h"
#include "sdnc/core/error.h"
#include "sdnc/core/parallel.h"
#include "sdnc/io/utf8.h"

namespace sdnc::models {

namespace {

constexpr const char* kOp = "llama";

void rms_norm(const float* x, const float* g, int64_t D, double eps, float* y) {
  double ss = 0;
  for (int64_t i = 0; i < D; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float inv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(D) + eps));
  for (int64_t i = 0; i < D; ++i) y[i] = g[i] * (x[i] * inv);
}

// rotate_half RoPE of `heads` heads of width W at `position`, in place.
void rope(float* x, int64_t heads, int64_t W, int64_t position, const std::vector<float>& inv_freq) {
  const int64_t half = W / 2;
  for (int64_t i = 0; i < half; ++i) {
    const float angle = static_cast<float>(position) * inv_freq[i];
    const float c = std::cos(angle), s = std::sin(angle);
    for (int64_t h = 0; h < heads; ++h) {
      float* p = x + h * W;
      const float a = p[i], b = p[i + half];
      p[i] = a * c - b * s;
      p[i + half] = b * c + a * s;
    }
  }
}

inline float silu(float v) { return v / (1.f + std::exp(-v)); }

// y[m, o] = Σ_i x[m, i] W[o, i] for all o, the output columns split between threads.
void times_all(const WeightMatrix& w, int64_t M, const float* x, float* y, bool accumulate) {
  parallel_for(w.rows(), 64, [&](int64_t o0, int64_t o1) {
    w.times(M, x, w.cols(), y, w.rows(), o0, o1, accumulate);
  });
}

// llama.cpp's Q/K row order → Hugging Face's: HF row h·W + s·W/2 + j is GGUF row h·W + 2j + s.
std::vector<int64_t> unpermute_rows(int64_t heads, int64_t W) {
  std::vector<int64_t> perm(static_cast<size_t>(heads * W));
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t s = 0; s < 2; ++s)
      for (int64_t j = 0; j < W / 2; ++j) perm[h * W + s * (W / 2) + j] = h * W + 2 * j + s;
  return perm;
}

std::vector<float> vector_tensor(const gguf::File& f, const std::string& name, int64_t n) {
  const gguf::TensorInfo* info = f.find_tensor(name);
  if (!info) fail(kOp, "{}: tensor '{}' is missing", f.path(), name);
  if (info->ne.size() != 1 || static_cast<int64_t>(info->ne[0]) != n)
    fail(kOp, "{}: tensor '{}' has ggml shape {} but the metadata says [{}]", f.path(), name,
         fmt::format("{}", info->ne), n);
  Tensor t = f.dequantize(*info);
  return std::vector<float>(t.data<float>(), t.data<float>() + n);
}

}  // namespace

LlamaConfig LlamaConfig::from_gguf(const gguf::File& f) {
  const std::string& arch = f.get_string("general.architecture");
  if (arch != "llama")
    fail(kOp, "{}: general.architecture is '{}'; only 'llama' decoders are supported", f.path(), printable(arch));
  LlamaConfig c;
  auto positive = [&](const std::string& key) {
    const int64_t v = f.get_int(key);
    if (v <= 0 || v > (int64_t{1} << 24)) fail(kOp, "{}: metadata '{}' = {} is out of range", f.path(), key, v);
    return v;
  };
  c.layers = positive("llama.block_count");
  c.d_model = positive("llama.embedding_length");
  c.d_ffn = positive("llama.feed_forward_length");
  c.heads = positive("llama.attention.head_count");
  c.kv_heads = f.find("llama.attention.head_count_kv") ? positive("llama.attention.head_count_kv") : c.heads;
  c.context = f.find("llama.context_length") ? positive("llama.context_length") : 2048;
  if (c.d_model % c.heads != 0)
    fail(kOp, "{}: embedding_length {} is not a multiple of head_count {}", f.path(), c.d_model, c.heads);
  if (c.heads % c.kv_heads != 0)
    fail(kOp, "{}: head_count {} is not a multiple of head_count_kv {}", f.path(), c.heads, c.kv_heads);
  c.head_dim = c.d_model / c.heads;
  if (f.find("llama.rope.dimension_count") && f.get_int("llama.rope.dimension_count") != c.head_dim)
    fail(kOp, "{}: rope.dimension_count {} != head width {} (partial RoPE is not supported)", f.path(),
         f.get_int("llama.rope.dimension_count"), c.head_dim);
  if (c.head_dim % 2 != 0) fail(kOp, "{}: head width {} is odd", f.path(), c.head_dim);
  if (f.find("llama.rope.freq_base")) c.rope_theta = f.get_float("llama.rope.freq_base");
  c.rms_eps = f.get_float("llama.attention.layer_norm_rms_epsilon");
  if (!(c.rope_theta > 0) || !(c.rms_eps > 0))
    fail(kOp, "{}: rope.freq_base {} and layer_norm_rms_epsilon {} must be > 0", f.path(), c.rope_theta, c.rms_eps);
  const gguf::TensorInfo& emb = f.tensor("token_embd.weight");
  c.vocab = emb.ne.size() == 2 ? static_cast<int64_t>(emb.ne[1]) : 0;
  if (f.find("llama.vocab_size") && f.get_int("llama.vocab_size") != c.vocab)
    fail(kOp, "{}: llama.vocab_size {} disagrees with tensor 'token_embd.weight' ({} rows)", f.path(),
         f.get_int("llama.vocab_size"), c.vocab);
  return c;
}

nlohmann::json LlamaConfig::machine_config() const {
  return {{"model_type", "machine"}, {"controller", "stateless"}, {"write", "append"},
          {"similarity", "dot"},     {"read_modes", "content"},   {"key_value", "separate"},
          {"positions", "rope"},     {"rope_theta", rope_theta},  {"norm", "rms"},
          {"activation", "swiglu"},  {"bias", false},             {"causal", true},
          {"norm_first", true},      {"layer_norm_eps", rms_eps}, {"layers", layers},
          {"d_model", d_model},      {"d_ffn", d_ffn},            {"read_heads", heads},
          {"write_heads", heads},    {"memory_slices", kv_heads}, {"word_size", head_dim},
          {"input_vocab", vocab},    {"input_size", d_model},     {"output_size", vocab}};
}

LlamaModel LlamaModel::load(const std::string& path) {
  LlamaModel m;
  m.file_ = gguf::File::open(path);
  const gguf::File& f = m.file_;
  m.config_ = LlamaConfig::from_gguf(f);
  const LlamaConfig& c = m.config_;
  m.tokenizer_ = std::make_shared<tokenizers::Bpe>(tokenizers::Bpe::from_gguf(f));
  if (m.tokenizer_->vocab_size() != c.vocab)
    fail(kOp, "{}: the tokenizer has {} tokens but 'token_embd.weight' has {} rows", path,
         m.tokenizer_->vocab_size(), c.vocab);
  const int64_t D = c.d_model, W = c.head_dim;
  m.embedding_ = WeightMatrix::from_gguf(f, "token_embd.weight", c.vocab, D, kOp);
  m.head_ = f.find_tensor("output.weight") ? WeightMatrix::from_gguf(f, "output.weight", c.vocab, D, kOp)
                                           : m.embedding_;
  m.final_norm_ = vector_tensor(f, "output_norm.weight", D);
  const std::vector<int64_t> q_perm = unpermute_rows(c.heads, W), k_perm = unpermute_rows(c.kv_heads, W);
  for (int64_t l = 0; l < c.layers; ++l) {
    const std::string p = fmt::format("blk.{}.", l);
    Layer L;
    L.attn_norm = vector_tensor(f, p + "attn_norm.weight", D);
    L.ffn_norm = vector_tensor(f, p + "ffn_norm.weight", D);
    L.q = WeightMatrix::from_gguf(f, p + "attn_q.weight", c.heads * W, D, kOp).permuted_rows(q_perm);
    L.k = WeightMatrix::from_gguf(f, p + "attn_k.weight", c.kv_heads * W, D, kOp).permuted_rows(k_perm);
    L.v = WeightMatrix::from_gguf(f, p + "attn_v.weight", c.kv_heads * W, D, kOp);
    L.o = WeightMatrix::from_gguf(f, p + "attn_output.weight", D, c.heads * W, kOp);
    L.gate = WeightMatrix::from_gguf(f, p + "ffn_gate.weight", c.d_ffn, D, kOp);
    L.up = WeightMatrix::from_gguf(f, p + "ffn_up.weight", c.d_ffn, D, kOp);
    L.down = WeightMatrix::from_gguf(f, p + "ffn_down.weight", D, c.d_ffn, kOp);
    m.layers_.push_back(std::move(L));
  }
  m.inv_freq_.resize(static_cast<size_t>(W / 2));
  for (int64_t i = 0; i < W / 2; ++i)  // as transformers: 1 / theta^(2i/W), in F32
    m.inv_freq_[i] = 1.0f / static_cast<float>(std::pow(c.rope_theta, static_cast<double>(2 * i) / W));
  return m;
}

int64_t LlamaModel::State::written() const {
  return slots > 0 ? std::min(position, slots) : position;
}

int64_t LlamaModel::State::bytes() const {
  int64_t n = 0;
  for (size_t l = 0; l < keys.size(); ++l)
    for (size_t s = 0; s < keys[l].size(); ++s)
      n += static_cast<int64_t>((keys[l][s].capacity() + values[l][s].capacity()) * sizeof(float));
  return n;
}

LlamaModel::State LlamaModel::initial_state(int64_t memory_slots) const {
  SDNC_CHECK(memory_slots >= 0, kOp, "memory slots must be >= 0 (0: unbounded), got {}", memory_slots);
  State st;
  st.slots = memory_slots;
  const size_t L = static_cast<size_t>(config_.layers), S = static_cast<size_t>(config_.kv_heads);
  st.keys.assign(L, std::vector<std::vector<float>>(S));
  st.values.assign(L, std::vector<std::vector<float>>(S));
  if (memory_slots > 0)
    for (size_t l = 0; l < L; ++l)
      for (size_t s = 0; s < S; ++s) {
        st.keys[l][s].reserve(static_cast<size_t>(memory_slots * config_.head_dim));
        st.values[l][s].reserve(static_cast<size_t>(memory_slots * config_.head_dim));
      }
  return st;
}

void LlamaModel::step(int64_t token, State& st, float* logits) const {
  const LlamaConfig& c = config_;
  if (token < 0 || token >= c.vocab) fail(kOp, "token id {} is outside the vocabulary [0, {})", token, c.vocab);
  const int64_t D = c.d_model, W = c.head_dim, R = c.heads, S = c.kv_heads, group = R / S;
  std::vector<float> x(D), a(D), q(R * W), k(S * W), v(S * W), r(R * W), g(c.d_ffn), u(c.d_ffn);
  embedding_.row(token, x.data());
  // The slot this step writes: the next one, or (bounded and full) the oldest one's.
  const bool evict = st.slots > 0 && st.position >= st.slots;
  const int64_t slot = st.slots > 0 ? st.position % st.slots : st.position;
  const int64_t n = evict ? st.slots : st.written() + 1;
  const float scale = 1.0f / std::sqrt(static_cast<float>(W));
  for (int64_t l = 0; l < c.layers; ++l) {
    const Layer& L = layers_[l];
    rms_norm(x.data(), L.attn_norm.data(), D, c.rms_eps, a.data());
    times_all(L.q, 1, a.data(), q.data(), false);
    times_all(L.k, 1, a.data(), k.data(), false);
    times_all(L.v, 1, a.data(), v.data(), false);
    rope(q.data(), R, W, st.position, inv_freq_);
    rope(k.data(), S, W, st.position, inv_freq_);
    for (int64_t s = 0; s < S; ++s) {  // the write: one slot per memory slice
      std::vector<float>& K = st.keys[l][s];
      std::vector<float>& V = st.values[l][s];
      if (!evict) { K.resize(static_cast<size_t>(n * W)); V.resize(static_cast<size_t>(n * W)); }
      std::copy_n(k.data() + s * W, W, K.data() + slot * W);
      std::copy_n(v.data() + s * W, W, V.data() + slot * W);
    }
    parallel_for(R, 1, [&](int64_t h0, int64_t h1) {  // the reads: R heads over S slices
      std::vector<float> scores(static_cast<size_t>(n));
      for (int64_t h = h0; h < h1; ++h)
        cpu::attention_one_query(q.data() + h * W, st.keys[l][h / group].data(), st.values[l][h / group].data(),
                                 n, W, W, scale, scores.data(), r.data() + h * W);
    });
    times_all(L.o, 1, r.data(), x.data(), true);
    rms_norm(x.data(), L.ffn_norm.data(), D, c.rms_eps, a.data());
    times_all(L.gate, 1, a.data(), g.data(), false);
    times_all(L.up, 1, a.data(), u.data(), false);
    for (int64_t i = 0; i < c.d_ffn; ++i) g[i] = silu(g[i]) * u[i];
    times_all(L.down, 1, g.data(), x.data(), true);
  }
  rms_norm(x.data(), final_norm_.data(), D, c.rms_eps, a.data());
  times_all(head_, 1, a.data(), logits, false);
  ++st.position;
}

std::vector<float> LlamaModel::forward(const std::vector<int64_t>& tokens) const {
  const LlamaConfig& c = config_;
  const int64_t T = static_cast<int64_t>(tokens.size()), D = c.d_model, W = c.head_dim, R = c.heads,
                S = c.kv_heads, F = c.d_ffn, group = R / S;
  std::vector<float> x(T * D), a(T * D), q(T * R * W), k(T * S * W), v(T * S * W), r(T * R * W),
      g(T * F), u(T * F);
  for (int64_t t = 0; t < T; ++t) {
    if (tokens[t] < 0 || tokens[t] >= c.vocab)
      fail(kOp, "token id {} is outside the vocabulary [0, {})", tokens[t], c.vocab);
    embedding_.row(tokens[t], x.data() + t * D);
  }
  // y [T, N] (+)= x [T, K] · Wᵀ with the F32 weights.
  auto linear = [&](const WeightMatrix& w, const float* in, float* out, bool accumulate) {
    const std::vector<float> wf = w.dequantized();
    cpu::gemm(false, true, T, w.rows(), w.cols(), 1.0f, in, w.cols(), wf.data(), w.cols(),
              accumulate ? 1.0f : 0.0f, out, w.rows());
  };
  const float scale = 1.0f / std::sqrt(static_cast<float>(W));
  for (int64_t l = 0; l < c.layers; ++l) {
    const Layer& L = layers_[l];
    for (int64_t t = 0; t < T; ++t) rms_norm(x.data() + t * D, L.attn_norm.data(), D, c.rms_eps, a.data() + t * D);
    linear(L.q, a.data(), q.data(), false);
    linear(L.k, a.data(), k.data(), false);
    linear(L.v, a.data(), v.data(), false);
    for (int64_t t = 0; t < T; ++t) {
      rope(q.data() + t * R * W, R, W, t, inv_freq_);
      rope(k.data() + t * S * W, S, W, t, inv_freq_);
    }
    // Every position writes its slot of each slice's memory; position t reads slots 0..t.
    std::vector<std::vector<float>> Ks(S, std::vector<float>(T * W)), Vs(S, std::vector<float>(T * W));
    for (int64_t s = 0; s < S; ++s)
      for (int64_t t = 0; t < T; ++t) {
        std::copy_n(k.data() + (t * S + s) * W, W, Ks[s].data() + t * W);
        std::copy_n(v.data() + (t * S + s) * W, W, Vs[s].data() + t * W);
      }
    parallel_for(T * R, 1, [&](int64_t b, int64_t e) {
      std::vector<float> scores(static_cast<size_t>(T));
      for (int64_t i = b; i < e; ++i) {
        const int64_t t = i / R, h = i % R;
        cpu::attention_one_query(q.data() + (t * R + h) * W, Ks[h / group].data(), Vs[h / group].data(), t + 1,
                                 W, W, scale, scores.data(), r.data() + (t * R + h) * W);
      }
    });
    linear(L.o, r.data(), x.data(), true);
    for (int64_t t = 0; t < T; ++t) rms_norm(x.data() + t * D, L.ffn_norm.data(), D, c.rms_eps, a.data() + t * D);
    linear(L.gate, a.data(), g.data(), false);
    linear(L.up, a.data(), u.data(), false);
    for (int64_t i = 0; i < T * F; ++i) g[i] = silu(g[i]) * u[i];
    linear(L.down, g.data(), x.data(), true);
  }
  for (int64_t t = 0; t < T; ++t) rms_norm(x.data() + t * D, final_norm_.data(), D, c.rms_eps, a.data() + t * D);
  std::vector<float> logits(static_cast<size_t>(T * c.vocab));
  linear(head_, a.data(), logits.data(), false);
  return logits;
}

}  // namespace sdnc::models
