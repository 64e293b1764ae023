// llama.cpp — the Llama decoder as a causal sDNC: loading (metadata → config, tensors checked
// against it, Q/K rows un-permuted), the fast quantised step (llama_step.cpp), and the stack forms (the F32
// weights mapped onto machine::MachineStack's parameters on first use).
#include "sdnc/models/llama.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "sdnc/autograd/grad_mode.h"
#include "sdnc/backend/cpu/attention.h"
#include "sdnc/core/error.h"
#include "sdnc/io/utf8.h"
#include "sdnc/ops/ops.h"

namespace sdnc::models {

namespace {

constexpr const char* kOp = "llama";

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
          {"write_heads", 1},        {"memory_slices", kv_heads}, {"word_size", head_dim},
          {"input_vocab", vocab},    {"input_size", vocab},       {"output_size", vocab},
          {"clip_value", 0}};
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
        st.keys[l][s].reserve(static_cast<size_t>((memory_slots + cpu::kKeyTile - 1) / cpu::kKeyTile *
                                                  cpu::kKeyTile * config_.head_dim));
        st.values[l][s].reserve(static_cast<size_t>(memory_slots * config_.head_dim));
      }
  return st;
}

const LlamaModel::StackForm& LlamaModel::stack_form() const {
  std::lock_guard<std::mutex> lock(stack_form_->mutex);
  if (stack_form_->form) return *stack_form_->form;
  const LlamaConfig& c = config_;
  NoGradGuard no_grad;
  auto f32 = [](const WeightMatrix& w) { return Tensor::from_vector(w.dequantized(), {w.rows(), w.cols()}); };
  auto gain = [](const std::vector<float>& g) { return Tensor::from_vector(g, {static_cast<int64_t>(g.size())}); };
  auto form = std::make_unique<StackForm>();
  form->embedding = f32(embedding_);
  form->head = file_.find_tensor("output.weight") ? f32(head_) : form->embedding;  // tied when the file has no head
  form->stack = std::make_shared<machine::MachineStack>(
      machine::MachineConfig::from_json(c.machine_config(), file_.path()), c.d_model);
  // Each F32 matrix is copied straight into its parameter (no second copy of the whole model).
  std::map<std::string, Tensor> params = form->stack->state_dict();
  size_t written = 0;
  auto put = [&](const std::string& name, const Tensor& value) {
    auto it = params.find(name);
    SDNC_CHECK(it != params.end() && it->second.shape() == value.shape(), kOp, "{}: the stack has no parameter {} {}",
               file_.path(), name, shape_str(value.shape()));
    it->second.copy_from(value);
    ++written;
  };
  for (int64_t l = 0; l < c.layers; ++l) {
    const Layer& L = layers_[static_cast<size_t>(l)];
    const std::string to = form->stack->layer_prefix(static_cast<size_t>(l));
    put(to + "self_attn.in_proj_weight", concat({f32(L.q), f32(L.k), f32(L.v)}, 0));
    put(to + "self_attn.out_proj.weight", f32(L.o));
    put(to + "linear1.weight", concat({f32(L.gate), f32(L.up)}, 0));
    put(to + "linear2.weight", f32(L.down));
    put(to + "norm1.weight", gain(L.attn_norm));
    put(to + "norm2.weight", gain(L.ffn_norm));
  }
  SDNC_CHECK(written == params.size(), kOp, "{}: {} of the stack's {} parameters have no GGUF tensor", file_.path(),
             params.size() - written, params.size());
  form->final_norm = std::make_shared<nn::RmsNorm>(c.d_model, c.rms_eps);
  form->final_norm->load_state_dict({{"weight", gain(final_norm_)}});
  stack_form_->form = std::move(form);
  return *stack_form_->form;
}

const machine::MachineStack& LlamaModel::stack() const { return *stack_form().stack; }

std::vector<float> LlamaModel::run_stack(const std::vector<int64_t>& tokens, Form form) const {
  const LlamaConfig& c = config_;
  const int64_t T = static_cast<int64_t>(tokens.size());
  for (int64_t id : tokens)
    if (id < 0 || id >= c.vocab) fail(kOp, "token id {} is outside the vocabulary [0, {})", id, c.vocab);
  if (T == 0) return {};
  const StackForm& f = stack_form();
  NoGradGuard no_grad;
  Tensor x = embedding(f.embedding, Tensor::from_indices(tokens, {1, T}));  // [1, T, D]
  Tensor h = f.stack->forward(x, form);                                      // [1, T, D]
  Tensor logits = linear(f.final_norm->forward(h), f.head);                 // [1, T, V]
  const float* p = logits.data<float>();
  return std::vector<float>(p, p + T * c.vocab);
}

std::vector<float> LlamaModel::forward(const std::vector<int64_t>& tokens) const {
  return run_stack(tokens, Form::Parallel);
}

std::vector<float> LlamaModel::forward_steps(const std::vector<int64_t>& tokens) const {
  return run_stack(tokens, Form::Recurrent);
}

}  // namespace sdnc::models
