#include "sdnc/backend/cpu/decode_step.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "sdnc/backend/cpu/layer_norm.h"
#include "sdnc/backend/cpu/simd_math.h"
#include "sdnc/core/parallel.h"
#include "sdnc/core/worker_team.h"

namespace sdnc::cpu {

namespace {

// Slots per block of the read phases. Fixed (not chosen by the thread count), so that the
// partial sums, and so the results, do not depend on the threads.
constexpr int64_t kSlotChunk = 64;

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
  std::vector<float> weights;  // [R, slots] scores, then read weights
  std::vector<float> partial;  // [chunks, R·W] each slot chunk's share of the reads
  std::vector<int64_t> normed_for;  // [workers] the phase whose norm `normed` holds
};

void at_least(std::vector<float>& v, size_t size) {
  if (v.size() < size) v.resize(std::max(size, 2 * v.size()));
}

}  // namespace

void decode_step_f32(const DecodeShape& s, const std::vector<DecodeLayerF32>& layers, int64_t n, float* x,
                     const DecodeHeadF32& head, float* logits) {
  const int64_t D = s.D, R = s.R, S = s.S, W = s.W, F = s.F, L = static_cast<int64_t>(layers.size());
  const int64_t RW = R * W, SW = S * W, Q = RW + 2 * SW, slots = n + 1;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(W)));
  const int64_t chunks = (slots + kSlotChunk - 1) / kSlotChunk;

  // Helpers only where a layer's products are worth sharing.
  std::shared_ptr<WorkerTeam> team;
  if (D * Q + RW * D + 2 * D * F >= kMinParallelWeights && num_threads() > 1) team = WorkerTeam::shared();
  const int workers = team ? team->size() : 1;
  thread_local Scratch scratch;
  Scratch& ws = scratch;  // the caller's: helpers running blocks must use it, not their own
  at_least(ws.qkv, Q), at_least(ws.reads, RW), at_least(ws.hidden, F), at_least(ws.normed, workers * D);
  at_least(ws.weights, R * slots), at_least(ws.partial, chunks * RW);
  ws.normed_for.assign(workers, -1);
  float *qkv = ws.qkv.data(), *reads = ws.reads.data(), *hidden = ws.hidden.data();
  float *weights = ws.weights.data(), *partial = ws.partial.data();

  // Phases per layer: QKV; the read as scores, softmax, values, sum (the memory swept slot by
  // slot, every head at once: a slot's S·W row is read whole, once per pass); read-out; up;
  // down. Then the logits.
  const bool shared = team != nullptr;
  constexpr int64_t per_layer = 8;
  auto column_blocks = [&](int64_t N) { return (N + block_columns(N, shared) - 1) / block_columns(N, shared); };
  std::vector<int64_t> blocks;
  for (int64_t l = 0; l < L; ++l)
    for (int64_t b : {column_blocks(Q), chunks, R, chunks, R, column_blocks(D), column_blocks(F), column_blocks(D)})
      blocks.push_back(b);
  if (head.weight) blocks.push_back(column_blocks(head.V));

  auto block = [&](int64_t phase, int64_t b, int worker) {
    float* a = ws.normed.data() + worker * D;
    // a ← norm(x) for this phase, once per worker (the row is needed whole by every block).
    auto normalise = [&](const float* w, const float* bias) {
      if (ws.normed_for[worker] == phase) return;
      layer_norm_row(x, w, bias, D, s.eps, a);
      ws.normed_for[worker] = phase;
    };
    auto product = [&](int64_t K, int64_t N, const float* in, const float* Wt, const float* bias, float* y,
                       RowEpilogue e) {
      const int64_t cols = block_columns(N, shared), o0 = b * cols, o1 = std::min(N, o0 + cols);
      if (s.conv1d) rows_times_weight(1, K, N, in, K, Wt, bias, y, N, o0, o1, e);
      else rows_times_weight_t(1, K, in, K, Wt, bias, y, N, o0, o1, e);
    };
    const int64_t l = phase / per_layer;
    if (l == L) {  // logits = LN_f(x) · Eᵀ
      normalise(head.norm_w, head.norm_b);
      const int64_t cols = block_columns(head.V, shared), o0 = b * cols, o1 = std::min(head.V, o0 + cols);
      rows_times_weight_t(1, D, a, D, head.weight, nullptr, logits, head.V, o0, o1, RowEpilogue::Store);
      return;
    }
    const DecodeLayerF32& w = layers[static_cast<size_t>(l)];
    const int64_t j0 = b * kSlotChunk, j1 = std::min(slots, j0 + kSlotChunk);  // the read phases' slots
    switch (phase % per_layer) {
      case 0:
        normalise(w.norm1_w, w.norm1_b);
        product(D, Q, a, w.qkv_w, w.qkv_b, qkv, RowEpilogue::Store);
        break;
      case 1:  // scores of slots [j0, j1) for every head; the last chunk first writes slot n
        if (j1 == slots) {
          std::copy(qkv + RW, qkv + RW + SW, w.keys + n * SW);
          std::copy(qkv + RW + SW, qkv + RW + 2 * SW, w.values + n * SW);
        }
        for (int64_t h = 0; h < R; ++h) {  // four slots at a time: four independent sums
          const float* q = qkv + h * W;
          const float* K = w.keys + (h * S / R) * W;
          float* out = weights + h * slots;
          int64_t j = j0;
          for (; j + 4 <= j1; j += 4) {
            const float *k0 = K + j * SW, *k1 = k0 + SW, *k2 = k1 + SW, *k3 = k2 + SW;
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
            for (int64_t c = 0; c < W; ++c) {
              s0 += q[c] * k0[c];
              s1 += q[c] * k1[c];
              s2 += q[c] * k2[c];
              s3 += q[c] * k3[c];
            }
            out[j] = s0 * scale, out[j + 1] = s1 * scale, out[j + 2] = s2 * scale, out[j + 3] = s3 * scale;
          }
          for (; j < j1; ++j) {
            const float* k0 = K + j * SW;
            float s0 = 0;
#pragma omp simd reduction(+ : s0)
            for (int64_t c = 0; c < W; ++c) s0 += q[c] * k0[c];
            out[j] = s0 * scale;
          }
        }
        break;
      case 2: {  // head b's scores → read weights (max-shifted softmax)
        float* row = weights + b * slots;
        float mx = row[0];
        for (int64_t j = 1; j < slots; ++j) mx = std::max(mx, row[j]);
        float sum = 0;
        for (int64_t j = 0; j < slots; ++j) sum += (row[j] = exp_f32(row[j] - mx));
        const float inv = 1.0f / sum;
#pragma omp simd
        for (int64_t j = 0; j < slots; ++j) row[j] *= inv;
        break;
      }
      case 3: {  // chunk b's share of every head's read: Σ_j w_hj · V_j (slice h·S/R)
        float* out = partial + b * RW;
        std::fill(out, out + RW, 0.0f);
        for (int64_t h = 0; h < R; ++h) {  // four slots per pass over the head's output
          const float* V = w.values + (h * S / R) * W;
          const float* wt = weights + h * slots;
          float* o = out + h * W;
          int64_t j = j0;
          for (; j + 4 <= j1; j += 4) {
            const float w0 = wt[j], w1 = wt[j + 1], w2 = wt[j + 2], w3 = wt[j + 3];
            const float *v0 = V + j * SW, *v1 = v0 + SW, *v2 = v1 + SW, *v3 = v2 + SW;
#pragma omp simd
            for (int64_t c = 0; c < W; ++c) o[c] += w0 * v0[c] + w1 * v1[c] + w2 * v2[c] + w3 * v3[c];
          }
          for (; j < j1; ++j) {
            const float w0 = wt[j];
            const float* v0 = V + j * SW;
#pragma omp simd
            for (int64_t c = 0; c < W; ++c) o[c] += w0 * v0[c];
          }
        }
        break;
      }
      case 4: {  // head b's read: the chunks' shares summed in chunk order
        float* r = reads + b * W;
        std::copy(partial + b * W, partial + (b + 1) * W, r);
        for (int64_t c = 1; c < chunks; ++c) {
          const float* p = partial + c * RW + b * W;
#pragma omp simd
          for (int64_t k = 0; k < W; ++k) r[k] += p[k];
        }
        break;
      }
      case 5: product(RW, D, reads, w.out_w, w.out_b, x, RowEpilogue::Accumulate); break;
      case 6:
        normalise(w.norm2_w, w.norm2_b);
        product(D, F, a, w.up_w, w.up_b, hidden, s.activation);
        break;
      case 7: product(F, D, hidden, w.down_w, w.down_b, x, RowEpilogue::Accumulate); break;
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
