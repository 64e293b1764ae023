// gpt2_decode.cpp — the lean path of Gpt2Model::decode: one new token per sequence.
//
// A decoding step multiplies a few rows (M = B) by every weight of the model once; at
// M = 1 that is bound by reading the weights, and in the general layer code the time went
// to everything around the products (a tensor per op, splits and copies of q/k/v, the
// GEMM library's dispatch). Here one parallel region runs the whole step on preallocated
// buffers, each thread owning a fixed range of output columns of every product (so the
// results do not depend on the thread count):
//
//   x = wte[token] + wpe[position]                                    [M, D]
//   per layer:  a = LN_1(x) (each thread, privately)  → qkv = a·W_attn + b   [M, 3D]
//               write k, v of the new slot into the memory; r = read(q)   [M, D]  per (m, head)
//               x += r·W_proj + b
//               a = LN_2(x)  → f = GELU(a·W_fc + b)                        [M, F]
//               x += f·W_mlp + b
//   logits = LN_f(x)·wteᵀ                                              [M, V]
//
// Letters: M rows (= B sequences, one token each), D model width, H heads, Dh = D/H,
// F feed-forward width, V vocabulary, n slots written (position + 1).
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "sdnc/backend/cpu/attention.h"
#include "sdnc/backend/cpu/gemv.h"
#include "sdnc/backend/cpu/layer_norm.h"
#include "sdnc/core/parallel.h"
#include "sdnc/models/gpt2.h"

namespace sdnc::models {

struct Gpt2Model::DecodeWorkspace {
  std::vector<float> x;       // [M, D] residual stream
  std::vector<float> qkv;     // [M, 3D]
  std::vector<float> reads;   // [M, D] merged read words
  std::vector<float> hidden;  // [M, F]
  std::vector<float> normed;  // [threads, M, D] LayerNorm outputs, one block per thread
  std::vector<float> scores;  // [threads, n] attention scratch, one block per thread
};

namespace {

// Weights of one layer, as raw pointers (Conv1D [in, out] layout).
struct LayerWeights {
  const float *ln1_w, *ln1_b, *attn_w, *attn_b, *proj_w, *proj_b;
  const float *ln2_w, *ln2_b, *fc_w, *fc_b, *mlp_w, *mlp_b;
};

const float* ptr(const Tensor& t) { return t.defined() ? t.data<float>() : nullptr; }

bool is_f32_conv1d(const nn::Linear& l) {
  return l.layout == nn::WeightLayout::Conv1D && l.weight.dtype() == DType::F32 &&
         (!l.bias.defined() || l.bias.dtype() == DType::F32);
}

cpu::RowEpilogue epilogue_of(controllers::Activation a) {
  switch (a) {
    case controllers::Activation::Relu: return cpu::RowEpilogue::Relu;
    case controllers::Activation::Gelu: return cpu::RowEpilogue::Gelu;
    case controllers::Activation::GeluTanh: return cpu::RowEpilogue::GeluTanh;
  }
  return cpu::RowEpilogue::Store;
}

// Multiply-adds per layer (M × weights) from which a step runs on several threads.
constexpr int64_t kMinParallelWeights = int64_t{1} << 16;

// [begin, end) of `count` equal tasks for thread p of nt.
std::pair<int64_t, int64_t> share(int64_t count, int p, int nt) { return {count * p / nt, count * (p + 1) / nt}; }

}  // namespace

bool Gpt2Model::single_token_path_applies(const Tensor& tokens) const {
  if (tokens.size(1) != 1 || tokens.size(0) > cpu::kGemvMaxRows) return false;
  if (wte->weight.dtype() != DType::F32 || wpe->weight.dtype() != DType::F32) return false;
  if (ln_f->weight.dtype() != DType::F32) return false;
  for (const auto& layer : h) {
    const auto& c = *layer->controller;
    if (!c.config().norm_first || c.cross_heads || layer->config().similarity != memory::Similarity::ScaledDot)
      return false;
    if (!is_f32_conv1d(c.self_heads->interface_projection()) || !is_f32_conv1d(c.self_heads->read_out_projection()) ||
        !is_f32_conv1d(c.ffn->up()) || !is_f32_conv1d(c.ffn->down()))
      return false;
    if (c.norm_self->weight.dtype() != DType::F32 || c.norm_ffn->weight.dtype() != DType::F32) return false;
  }
  return true;
}

Tensor Gpt2Model::decode_single_token(const Tensor& tokens, DecodeState& state) const {
  const int64_t M = tokens.size(0), D = config_.n_embd, H = config_.n_head, Dh = D / H, V = config_.vocab_size;
  const int64_t L = static_cast<int64_t>(h.size());
  const int64_t F = h[0]->controller->config().d_ffn;
  const int64_t pos = state.position, n = pos + 1;
  const double eps = config_.layer_norm_epsilon;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(Dh)));
  const cpu::RowEpilogue act = epilogue_of(h[0]->controller->ffn->activation());

  // Weights, and one new slot in every layer's memory (grown here, outside the region).
  std::vector<LayerWeights> weights(L);
  std::vector<float*> keys(L), values(L);
  std::vector<int64_t> capacity(L);
  for (int64_t l = 0; l < L; ++l) {  // checks first: a failed call leaves the state as it was
    const auto& mem = state.layers[l].self;
    if (mem.size() != pos)
      fail("gpt2", "decode: layer {} memory holds {} slots at position {}", l, mem.size(), pos);
  }
  for (int64_t l = 0; l < L; ++l) {
    const auto& c = *h[l]->controller;
    const auto &attn = c.self_heads->interface_projection(), &proj = c.self_heads->read_out_projection();
    const auto &fc = c.ffn->up(), &mlp = c.ffn->down();
    weights[l] = {ptr(c.norm_self->weight), ptr(c.norm_self->bias), ptr(attn.weight), ptr(attn.bias),
                  ptr(proj.weight),         ptr(proj.bias),         ptr(c.norm_ffn->weight), ptr(c.norm_ffn->bias),
                  ptr(fc.weight),           ptr(fc.bias),           ptr(mlp.weight),     ptr(mlp.bias)};
    auto& mem = state.layers[l].self;
    if (mem.capacity() == 0) mem = memory::AppendOnceMemory(M, H, Dh, Dh, DType::F32);
    mem.append_in_place(1);
    keys[l] = mem.key_storage().data<float>();
    values[l] = mem.value_storage().data<float>();
    capacity[l] = mem.capacity();
  }

  // Threads only where a layer's products are worth a barrier each (a barrier costs about a
  // microsecond, and a scheduler time slice when the cores are oversubscribed).
  const int64_t layer_weights = M * (4 * D * D + 2 * D * F);
  const int nt = omp_in_parallel() || layer_weights < kMinParallelWeights ? 1 : std::max(1, num_threads());
  if (!state.workspace) state.workspace = std::make_shared<DecodeWorkspace>();
  DecodeWorkspace& ws = *state.workspace;
  auto at_least = [](std::vector<float>& v, size_t size) {
    if (v.size() < size) v.resize(std::max(size, 2 * v.size()));
  };
  at_least(ws.x, M * D), at_least(ws.qkv, M * 3 * D), at_least(ws.reads, M * D), at_least(ws.hidden, M * F);
  at_least(ws.normed, nt * M * D), at_least(ws.scores, nt * n);

  // Embedding.
  const int64_t* tok = tokens.data<int64_t>();
  const float *wte_w = wte->weight.data<float>(), *wpe_w = wpe->weight.data<float>();
  float* x = ws.x.data();
  for (int64_t m = 0; m < M; ++m)
    for (int64_t c = 0; c < D; ++c) x[m * D + c] = wte_w[tok[m] * D + c] + wpe_w[pos * D + c];

  Tensor logits = Tensor::empty({M, 1, V}, DType::F32);
  float* out = logits.data<float>();
  float *qkv = ws.qkv.data(), *reads = ws.reads.data(), *hidden = ws.hidden.data();
  using cpu::column_split;
  using cpu::RowEpilogue;

#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int p = omp_get_thread_num(), np = omp_get_num_threads();
    float* a = ws.normed.data() + p * M * D;
    float* scores = ws.scores.data() + p * n;
    auto normalise = [&](const float* w, const float* b) {
      for (int64_t m = 0; m < M; ++m) cpu::layer_norm_row(x + m * D, w, b, D, eps, a + m * D);
    };
    auto product = [&](int64_t K, int64_t N, const float* in, const float* W, const float* bias, float* y,
                       RowEpilogue e) {
      cpu::rows_times_weight(M, K, N, in, K, W, bias, y, N, column_split(N, np, p), column_split(N, np, p + 1), e);
    };
    for (int64_t l = 0; l < L; ++l) {
      const LayerWeights& w = weights[l];
      normalise(w.ln1_w, w.ln1_b);
      product(D, 3 * D, a, w.attn_w, w.attn_b, qkv, RowEpilogue::Store);
#pragma omp barrier
      // Write slot pos of each (m, head), then read the memory with that head's query.
      auto [t0, t1] = share(M * H, p, np);
      for (int64_t task = t0; task < t1; ++task) {
        const int64_t m = task / H, hd = task % H;
        float* K = keys[l] + (m * H + hd) * capacity[l] * Dh;
        float* Vv = values[l] + (m * H + hd) * capacity[l] * Dh;
        const float* row = qkv + m * 3 * D;
        std::copy(row + D + hd * Dh, row + D + (hd + 1) * Dh, K + pos * Dh);
        std::copy(row + 2 * D + hd * Dh, row + 2 * D + (hd + 1) * Dh, Vv + pos * Dh);
        cpu::attention_one_query(row + hd * Dh, K, Vv, n, Dh, Dh, scale, scores, reads + m * D + hd * Dh);
      }
#pragma omp barrier
      product(D, D, reads, w.proj_w, w.proj_b, x, RowEpilogue::Accumulate);
#pragma omp barrier
      normalise(w.ln2_w, w.ln2_b);
      product(D, F, a, w.fc_w, w.fc_b, hidden, act);
#pragma omp barrier
      product(F, D, hidden, w.mlp_w, w.mlp_b, x, RowEpilogue::Accumulate);
#pragma omp barrier
    }
    normalise(ptr(ln_f->weight), ptr(ln_f->bias));
    cpu::rows_times_weight_t(M, D, a, D, wte_w, nullptr, out, V, column_split(V, np, p), column_split(V, np, p + 1),
                             RowEpilogue::Store);
  }
  state.position += 1;
  return logits;
}

}  // namespace sdnc::models
