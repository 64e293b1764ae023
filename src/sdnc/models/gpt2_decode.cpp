// gpt2_decode.cpp — the lean path of Gpt2Model::decode: one new token per sequence.
//
// A decoding step multiplies a few rows (M = B) by every weight of the model once; at
// M = 1 that is bound by reading the weights, and in the general layer code the time went
// to everything around the products (a tensor per op, splits and copies of q/k/v, the
// GEMM library's dispatch). Here the whole step runs on preallocated buffers as one chain
// of phases handed to a WorkerTeam (core/worker_team.h: the caller plus helpers that join
// when awake, no barriers). A block is a fixed range of output columns of one product (or
// one (m, head) read), so the results do not depend on the threads:
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
#include <algorithm>
#include <cmath>
#include <vector>

#include "sdnc/backend/cpu/attention.h"
#include "sdnc/backend/cpu/gemv.h"
#include "sdnc/backend/cpu/layer_norm.h"
#include "sdnc/core/parallel.h"
#include "sdnc/core/worker_team.h"
#include "sdnc/models/gpt2.h"

namespace sdnc::models {

struct Gpt2Model::DecodeWorkspace {
  std::vector<float> x;       // [M, D] residual stream
  std::vector<float> qkv;     // [M, 3D]
  std::vector<float> reads;   // [M, D] merged read words
  std::vector<float> hidden;  // [M, F]
  std::vector<float> normed;  // [threads, M, D] LayerNorm outputs, one block per thread
  std::vector<float> scores;  // [threads, n] attention scratch, one block per thread
  std::vector<int64_t> normed_for;  // [threads] the phase whose LayerNorm `normed` holds
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

// Multiply-adds per layer (M × weights) from which a step shares its blocks with helpers.
constexpr int64_t kMinParallelWeights = int64_t{1} << 16;

// Output columns per block when helpers share the step: narrower blocks read the weights
// in shorter runs per row and stream slower (one thread over the 16 T2 matrices: 128
// columns ~6 % slower than 256 or whole rows, 64 columns ~15 %), so 256 where that still
// leaves ≥ 2 blocks, else 128. Without helpers a product is one block (whole rows).
int64_t block_columns(int64_t N, bool shared) {
  if (!shared) return std::max<int64_t>(N, 1);
  return N >= 512 ? 256 : 128;
}

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

  // Helpers only where a layer's products are worth sharing.
  const int64_t layer_weights = M * (4 * D * D + 2 * D * F);
  std::shared_ptr<WorkerTeam> team;
  if (layer_weights >= kMinParallelWeights && num_threads() > 1) team = WorkerTeam::shared();
  const int workers = team ? team->size() : 1;
  if (!state.workspace) state.workspace = std::make_shared<DecodeWorkspace>();
  DecodeWorkspace& ws = *state.workspace;
  auto at_least = [](std::vector<float>& v, size_t size) {
    if (v.size() < size) v.resize(std::max(size, 2 * v.size()));
  };
  at_least(ws.x, M * D), at_least(ws.qkv, M * 3 * D), at_least(ws.reads, M * D), at_least(ws.hidden, M * F);
  at_least(ws.normed, workers * M * D), at_least(ws.scores, workers * n);
  ws.normed_for.assign(workers, -1);

  // Embedding.
  const int64_t* tok = tokens.data<int64_t>();
  const float *wte_w = wte->weight.data<float>(), *wpe_w = wpe->weight.data<float>();
  float* x = ws.x.data();
  for (int64_t m = 0; m < M; ++m)
    for (int64_t c = 0; c < D; ++c) x[m * D + c] = wte_w[tok[m] * D + c] + wpe_w[pos * D + c];

  Tensor logits = Tensor::empty({M, 1, V}, DType::F32);
  float* out = logits.data<float>();
  float *qkv = ws.qkv.data(), *reads = ws.reads.data(), *hidden = ws.hidden.data();
  using cpu::RowEpilogue;

  // Phases: 5 per layer (QKV, read, PROJ, FC, MLP), then the logits; blocks of output
  // columns (one per (m, head) for the reads).
  const bool shared = team != nullptr;
  auto column_blocks = [&](int64_t N) { return (N + block_columns(N, shared) - 1) / block_columns(N, shared); };
  std::vector<int64_t> blocks;
  for (int64_t l = 0; l < L; ++l)
    for (int64_t b : {column_blocks(3 * D), M * H, column_blocks(D), column_blocks(F), column_blocks(D)})
      blocks.push_back(b);
  blocks.push_back(column_blocks(V));

  auto block = [&](int64_t phase, int64_t b, int worker) {
    float* a = ws.normed.data() + worker * M * D;
    // a ← LN(x) for this phase, once per worker (the rows are needed whole by every block).
    auto normalise = [&](const float* w, const float* bias) {
      if (ws.normed_for[worker] == phase) return;
      for (int64_t m = 0; m < M; ++m) cpu::layer_norm_row(x + m * D, w, bias, D, eps, a + m * D);
      ws.normed_for[worker] = phase;
    };
    auto product = [&](int64_t K, int64_t N, const float* in, const float* W, const float* bias, float* y,
                       RowEpilogue e) {
      const int64_t cols = block_columns(N, shared), o0 = b * cols, o1 = std::min(N, o0 + cols);
      cpu::rows_times_weight(M, K, N, in, K, W, bias, y, N, o0, o1, e);
    };
    const int64_t l = phase / 5;
    if (l == L) {  // logits = LN_f(x) · wteᵀ
      normalise(ptr(ln_f->weight), ptr(ln_f->bias));
      const int64_t cols = block_columns(V, shared), o0 = b * cols, o1 = std::min(V, o0 + cols);
      cpu::rows_times_weight_t(M, D, a, D, wte_w, nullptr, out, V, o0, o1, RowEpilogue::Store);
      return;
    }
    const LayerWeights& w = weights[l];
    switch (phase % 5) {
      case 0:
        normalise(w.ln1_w, w.ln1_b);
        product(D, 3 * D, a, w.attn_w, w.attn_b, qkv, RowEpilogue::Store);
        break;
      case 1: {  // write slot pos of (m, head), then read the memory with that head's query
        const int64_t m = b / H, hd = b % H;
        float* K = keys[l] + (m * H + hd) * capacity[l] * Dh;
        float* Vv = values[l] + (m * H + hd) * capacity[l] * Dh;
        const float* row = qkv + m * 3 * D;
        std::copy(row + D + hd * Dh, row + D + (hd + 1) * Dh, K + pos * Dh);
        std::copy(row + 2 * D + hd * Dh, row + 2 * D + (hd + 1) * Dh, Vv + pos * Dh);
        float* scores = ws.scores.data() + worker * n;
        cpu::attention_one_query(row + hd * Dh, K, Vv, n, Dh, Dh, scale, scores, reads + m * D + hd * Dh);
        break;
      }
      case 2: product(D, D, reads, w.proj_w, w.proj_b, x, RowEpilogue::Accumulate); break;
      case 3:
        normalise(w.ln2_w, w.ln2_b);
        product(D, F, a, w.fc_w, w.fc_b, hidden, act);
        break;
      case 4: product(F, D, hidden, w.mlp_w, w.mlp_b, x, RowEpilogue::Accumulate); break;
    }
  };
  if (team) {
    team->run(blocks, block);
  } else {
    for (int64_t p = 0; p < static_cast<int64_t>(blocks.size()); ++p)
      for (int64_t b = 0; b < blocks[p]; ++b) block(p, b, 0);
  }
  state.position += 1;
  return logits;
}

}  // namespace sdnc::models
