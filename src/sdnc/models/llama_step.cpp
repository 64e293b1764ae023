// llama_step.cpp — LlamaModel::step, the recurrent form: one token, every product reading the
// quantised weights from their 16-row tiles made at load (backend/cpu/quant_gemv_packed.h,
// through WeightMatrix::times / times_int8).
//
// A step reads every weight once (SmolLM2-135M: 66 MB of Q4_1 layers + the 30 MB Q8_0 head); it
// runs on preallocated buffers as one chain of phases handed to a WorkerTeam
// (core/worker_team.h: the caller plus helpers that join when awake, no barriers), as
// gpt2_decode.cpp does. A block is a fixed range of output columns of one product (or one
// memory slice's write and reads), so the results do not depend on the threads:
//
//   x = E[token]                                                              [D]
//   per layer:  a = RMSNorm(x)·g1 (each thread, privately) → q|k|v = Wq|Wk|Wv a   [R·W + 2·S·W]
//               per slice s: RoPE k_s, write k_s, v_s; per head h of s: RoPE q_h, r_h = read(q_h)
//               x += Wo r
//               a = RMSNorm(x)·g2 → h = silu(Wgate a) ⊙ (Wup a)  (fused, per column block)  [F]
//               x += Wdown h
//   logits = E · RMSNorm(x)·gf                                                 [V]
// RoPE's cos/sin of the step's position are computed once and shared by every layer.
//
// Letters: D model width, R read heads, S memory slices, W head width, F feed-forward width,
// V vocabulary, n slots read.
#include <algorithm>
#include <cmath>

#include "sdnc/backend/cpu/attention.h"
#include "sdnc/backend/cpu/rms_norm.h"
#include "sdnc/backend/cpu/rope_rows.h"
#include "sdnc/core/error.h"
#include "sdnc/core/parallel.h"
#include "sdnc/core/worker_team.h"
#include "sdnc/models/llama.h"

namespace sdnc::models {

struct LlamaModel::State::Scratch {
  std::vector<float> x;           // [D] residual stream
  std::vector<float> qkv;         // [R·W + 2·S·W] q | k | v
  std::vector<float> reads;       // [R·W]
  std::vector<float> hidden;      // [F] silu(gate) ⊙ up
  std::vector<float> normed;      // [workers, D] RMSNorm outputs, one row per thread
  std::vector<int64_t> normed_for;  // [workers] the phase whose norm `normed` holds
  std::vector<float> up;          // [workers, F] the up product of a block's columns
  std::vector<int64_t> blocks;    // blocks per phase (the same every step)
  // Int8 activations: each thread's 8-bit image of the product input of the phase `coded_for`.
  std::vector<int8_t> codes;      // [workers, max(D, R·W, F)]
  std::vector<float> code_scale, code_sum;  // [workers, max(...) / 32]
  std::vector<int64_t> coded_for;  // [workers]
  std::vector<float> scores;      // [workers, n] attention scratch
  std::vector<float> cos_a, sin_a;  // [W/2] RoPE angles of this step's position
};

namespace {

constexpr const char* kOp = "llama";
constexpr int64_t kPhasesPerLayer = 5;  // QKV, write+read, O, gate/up, down

// Output columns per block: 64 keeps ~10-25 blocks per product for two threads to share;
// the head's 49152 columns take 256 (fewer hand-offs, same streaming). Both are multiples of
// the weight tiles' 16 rows, so no block computes a tile twice.
constexpr int64_t kColumns = 64, kHeadColumns = 256;

int64_t blocks_of(int64_t N, int64_t cols) { return (N + cols - 1) / cols; }

template <class T>
void at_least(std::vector<T>& v, size_t size) {
  if (v.size() < size) v.resize(std::max(size, 2 * v.size()));
}

}  // namespace

void LlamaModel::step(int64_t token, State& st, float* logits) const {
  const LlamaConfig& c = config_;
  if (token < 0 || token >= c.vocab) fail(kOp, "token id {} is outside the vocabulary [0, {})", token, c.vocab);
  const int64_t D = c.d_model, W = c.head_dim, R = c.heads, S = c.kv_heads, F = c.d_ffn, V = c.vocab;
  const int64_t L = c.layers, group = R / S, QW = R * W, KW = S * W;
  // The slot this step writes: the next one, or (bounded and full) the oldest one's.
  const bool evict = st.slots > 0 && st.position >= st.slots;
  const int64_t slot = st.slots > 0 ? st.position % st.slots : st.position;
  const int64_t n = evict ? st.slots : st.written() + 1;
  const float scale = 1.0f / std::sqrt(static_cast<float>(W));

  // Grow every memory by the new slot here, outside the team's region (keys by whole tiles of
  // cpu::kKeyTile slots: backend/cpu/attention.h).
  const int64_t key_slots = (n + cpu::kKeyTile - 1) / cpu::kKeyTile * cpu::kKeyTile;
  if (!evict)
    for (int64_t l = 0; l < L; ++l)
      for (int64_t s = 0; s < S; ++s) {
        st.keys[l][s].resize(static_cast<size_t>(key_slots * W));
        st.values[l][s].resize(static_cast<size_t>(n * W));
      }

  std::shared_ptr<WorkerTeam> team;
  if (num_threads() > 1) team = WorkerTeam::shared();
  const int workers = team ? team->size() : 1;
  if (!st.scratch) st.scratch = std::make_shared<State::Scratch>();
  State::Scratch& ws = *st.scratch;
  at_least(ws.x, D), at_least(ws.qkv, QW + 2 * KW), at_least(ws.reads, QW), at_least(ws.hidden, F);
  at_least(ws.normed, workers * D), at_least(ws.up, workers * F), at_least(ws.scores, workers * group * key_slots);
  at_least(ws.cos_a, W / 2), at_least(ws.sin_a, W / 2);
  ws.normed_for.assign(workers, -1);
  const bool int8 = st.activations == State::Activations::Int8;
  const int64_t widest = std::max({D, QW, F});
  if (int8) {
    at_least(ws.codes, workers * widest), at_least(ws.code_scale, workers * widest / 32);
    at_least(ws.code_sum, workers * widest / 32);
    ws.coded_for.assign(workers, -1);
  }
  cpu::rope_angles(st.position, inv_freq_.data(), W / 2, ws.cos_a.data(), ws.sin_a.data());
  float *x = ws.x.data(), *qkv = ws.qkv.data(), *reads = ws.reads.data(), *hidden = ws.hidden.data();
  embedding_.row(token, x);

  std::vector<int64_t>& blocks = ws.blocks;
  if (blocks.empty()) {
    for (int64_t l = 0; l < L; ++l)
      for (int64_t b : {blocks_of(QW, kColumns) + 2 * blocks_of(KW, kColumns), S, blocks_of(D, kColumns),
                        blocks_of(F, kColumns), blocks_of(D, kColumns)})
        blocks.push_back(b);
    blocks.push_back(blocks_of(V, kHeadColumns));
  }

  auto block = [&](int64_t phase, int64_t b, int worker) {
    float* a = ws.normed.data() + worker * D;
    auto normalise = [&](const std::vector<float>& g) {  // a ← RMSNorm(x)·g, once per worker and phase
      if (ws.normed_for[worker] == phase) return;
      cpu::rms_norm_row(x, g.data(), D, c.rms_eps, a);
      ws.normed_for[worker] = phase;
    };
    // Columns [o0, o1) of y (+)= w in; with Int8 activations `in` is rounded once per thread and phase.
    auto columns = [&](const WeightMatrix& w, const float* in, float* y, int64_t o0, int64_t o1, bool acc) {
      if (!int8 || !w.quantized()) return w.times(1, in, w.cols(), y, w.rows(), o0, o1, acc);
      int8_t* codes = ws.codes.data() + worker * widest;
      float *scale = ws.code_scale.data() + worker * widest / 32, *sum = ws.code_sum.data() + worker * widest / 32;
      if (ws.coded_for[worker] != phase) {
        cpu::quantize_rows_q8(1, w.cols(), in, w.cols(), codes, scale, sum);
        ws.coded_for[worker] = phase;
      }
      w.times_int8(in, {codes, scale, sum}, y, o0, o1, acc);
    };
    auto product = [&](const WeightMatrix& w, const float* in, float* y, int64_t b_in, int64_t cols, bool acc) {
      const int64_t o0 = b_in * cols;
      columns(w, in, y, o0, std::min(w.rows(), o0 + cols), acc);
    };
    const int64_t l = phase / kPhasesPerLayer;
    if (l == L) {  // logits = head · RMSNorm(x)·gf
      normalise(final_norm_);
      product(head_, a, logits, b, kHeadColumns, false);
      return;
    }
    const Layer& w = layers_[l];
    switch (phase % kPhasesPerLayer) {
      case 0: {  // q | k | v, blocks of each in turn
        normalise(w.attn_norm);
        const int64_t qb = blocks_of(QW, kColumns), kb = blocks_of(KW, kColumns);
        if (b < qb) product(w.q, a, qkv, b, kColumns, false);
        else if (b < qb + kb) product(w.k, a, qkv + QW, b - qb, kColumns, false);
        else product(w.v, a, qkv + QW + KW, b - qb - kb, kColumns, false);
        break;
      }
      case 1: {  // slice s: rotate and write its key, then its heads rotate their queries and read
        const int64_t s = b;
        float* k = qkv + QW + s * W;
        cpu::rope_rotate(k, 1, W, ws.cos_a.data(), ws.sin_a.data());
        float* K = st.keys[l][s].data();
        float* Vm = st.values[l][s].data();
        cpu::write_tiled_key(K, slot, k, W);
        std::copy_n(qkv + QW + KW + s * W, W, Vm + slot * W);
        // The slice's `group` heads read it together (grouped-query attention).
        for (int64_t h = s * group; h < (s + 1) * group; ++h)
          cpu::rope_rotate(qkv + h * W, 1, W, ws.cos_a.data(), ws.sin_a.data());
        cpu::attention_tiled_queries(qkv + s * group * W, group, K, Vm, n, W, W, scale,
                                     ws.scores.data() + worker * group * key_slots, reads + s * group * W);
        break;
      }
      case 2: product(w.o, reads, x, b, kColumns, true); break;
      case 3: {  // hidden = silu(gate a) ⊙ (up a) over this block's columns
        normalise(w.ffn_norm);
        const int64_t o0 = b * kColumns, o1 = std::min(F, o0 + kColumns);
        float* u = ws.up.data() + worker * F;  // indexed by column
        columns(w.gate, a, hidden, o0, o1, false);
        columns(w.up, a, u, o0, o1, false);
        for (int64_t i = o0; i < o1; ++i) hidden[i] = hidden[i] / (1.f + std::exp(-hidden[i])) * u[i];
        break;
      }
      case 4: product(w.down, hidden, x, b, kColumns, true); break;
    }
  };
  if (team) {  // through one pointer: the std::function holds it without allocating
    const auto* fn = &block;
    team->run(blocks, [fn](int64_t p, int64_t b, int worker) { (*fn)(p, b, worker); });
  } else {
    for (int64_t p = 0; p < static_cast<int64_t>(blocks.size()); ++p)
      for (int64_t b = 0; b < blocks[p]; ++b) block(p, b, 0);
  }
  ++st.position;
}

}  // namespace sdnc::models
