#include "sdnc/backend/cpu/decode_step.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "sdnc/backend/cpu/layer_norm.h"
#include "sdnc/backend/cpu/slot_read.h"
#include "sdnc/core/parallel.h"
#include "sdnc/core/worker_team.h"

namespace sdnc::cpu {

namespace {

// Multiply-adds per layer from which a step shares its blocks with helpers.
constexpr int64_t kMinParallelWeights = int64_t{1} << 16;

// Output columns per block when helpers share the step: narrower blocks read the weights
// in shorter runs per row and stream slower (one thread over the 16 T2 matrices: 128
// columns ~6 % slower than 256 or whole rows, 64 columns ~15 %), so 256 where that still
// leaves ≥ 2 blocks, else 128. Without helpers a product is one block (whole rows).
int64_t block_columns(int64_t N, bool shared) {
  if (!shared) return std::max<int64_t>(N, 1);
  return N >= 512 ? 256 : 128;
}

// Reused scratch of the calling thread (a step runs on one caller at a time per thread).
struct Scratch {
  std::vector<float> qkv, reads, hidden, normed;
  std::vector<float> scores;   // [workers, R, kSlotChunk] a chunk's scores, then numerators
  std::vector<float> partial;  // [chunks, R·W] each slot chunk's share of the reads
  std::vector<float> stats;    // [chunks, 2R] each chunk's score maximum and numerator sum per head
  std::vector<int64_t> normed_for;  // [workers] the phase whose norm `normed` holds
};

void at_least(std::vector<float>& v, size_t size) {
  if (v.size() < size) v.resize(std::max(size, 2 * v.size()));
}

}  // namespace

void decode_step(const DecodeShape& s, const std::vector<DecodeLayer>& layers, int64_t n, float* x,
                 const DecodeHead& head, float* logits) {
  const int64_t D = s.D, R = s.R, S = s.S, W = s.W, F = s.F, L = static_cast<int64_t>(layers.size());
  const int64_t RW = R * W, SW = S * W, Q = RW + 2 * SW, slots = n + 1;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(W)));
  const int64_t chunks = slot_chunks(slots);
  const SlotReadShape read_shape{R, S, W, scale};

  // Helpers only where a layer's products are worth sharing.
  std::shared_ptr<WorkerTeam> team;
  if (D * Q + RW * D + 2 * D * F >= kMinParallelWeights && num_threads() > 1) team = WorkerTeam::shared();
  const int workers = team ? team->size() : 1;
  thread_local Scratch scratch;
  Scratch& ws = scratch;  // the caller's: helpers running blocks must use it, not their own
  at_least(ws.qkv, Q), at_least(ws.reads, RW), at_least(ws.hidden, F), at_least(ws.normed, workers * D);
  at_least(ws.scores, workers * R * kSlotChunk), at_least(ws.partial, chunks * RW), at_least(ws.stats, chunks * 2 * R);
  ws.normed_for.assign(workers, -1);
  float *qkv = ws.qkv.data(), *reads = ws.reads.data(), *hidden = ws.hidden.data();
  float *partial = ws.partial.data(), *stats = ws.stats.data();

  // Phases per layer: QKV; the read as chunks (scores, the chunk's softmax numerators, values:
  // slot_read.h) and heads (the chunks combined); read-out; up; down. Then the logits.
  const bool shared = team != nullptr;
  constexpr int64_t per_layer = 6;
  auto column_blocks = [&](int64_t N) { return (N + block_columns(N, shared) - 1) / block_columns(N, shared); };
  std::vector<int64_t> blocks;
  for (int64_t l = 0; l < L; ++l)
    for (int64_t b : {column_blocks(Q), chunks, R, column_blocks(D), column_blocks(F), column_blocks(D)})
      blocks.push_back(b);
  if (head.weight.f32 || head.weight.packed) blocks.push_back(column_blocks(head.V));

  auto block = [&](int64_t phase, int64_t b, int worker) {
    float* a = ws.normed.data() + worker * D;
    // a ← norm(x) for this phase, once per worker (the row is needed whole by every block).
    auto normalise = [&](const float* w, const float* bias) {
      if (ws.normed_for[worker] == phase) return;
      layer_norm_row(x, w, bias, D, s.eps, a);
      ws.normed_for[worker] = phase;
    };
    auto product = [&](int64_t K, int64_t N, bool conv1d, const float* in, const DecodeMatrix& Wt, const float* bias,
                       float* y, RowEpilogue e) {
      const int64_t cols = block_columns(N, shared), o0 = b * cols, o1 = std::min(N, o0 + cols);
      if (Wt.packed) row_times_packed(in, *Wt.packed, bias, y, o0, o1, e);
      else if (conv1d) rows_times_weight(1, K, N, in, K, Wt.f32, bias, y, N, o0, o1, e);
      else rows_times_weight_t(1, K, in, K, Wt.f32, bias, y, N, o0, o1, e);
    };
    const int64_t l = phase / per_layer;
    if (l == L) {  // logits = LN_f(x) · Eᵀ
      normalise(head.norm_w, head.norm_b);
      product(D, head.V, false, a, head.weight, nullptr, logits, RowEpilogue::Store);
      return;
    }
    const DecodeLayer& w = layers[static_cast<size_t>(l)];
    switch (phase % per_layer) {
      case 0:
        normalise(w.norm1_w, w.norm1_b);
        product(D, Q, s.conv1d, a, w.qkv, w.qkv_b, qkv, RowEpilogue::Store);
        break;
      case 1:  // chunk b of the read, every head; the last chunk first writes slot n
        if (b == chunks - 1) {
          std::copy(qkv + RW, qkv + RW + SW, w.keys + n * SW);
          std::copy(qkv + RW + SW, qkv + RW + 2 * SW, w.values + n * SW);
        }
        slot_read_chunk(read_shape, qkv, w.keys, w.values, slots, b, ws.scores.data() + worker * R * kSlotChunk,
                        partial + b * RW, stats + b * 2 * R);
        break;
      case 2: combine_chunks(read_shape, partial, stats, chunks, b, reads + b * W); break;  // head b's read
      case 3: product(RW, D, s.conv1d, reads, w.out, w.out_b, x, RowEpilogue::Accumulate); break;
      case 4:
        normalise(w.norm2_w, w.norm2_b);
        product(D, F, s.conv1d, a, w.up, w.up_b, hidden, s.activation);
        break;
      case 5: product(F, D, s.conv1d, hidden, w.down, w.down_b, x, RowEpilogue::Accumulate); break;
    }
  };
  if (team) {
    team->run(blocks, block);
  } else {
    for (int64_t p = 0; p < static_cast<int64_t>(blocks.size()); ++p)
      for (int64_t b = 0; b < blocks[p]; ++b) block(p, b, 0);
  }
}

}  // namespace sdnc::cpu
