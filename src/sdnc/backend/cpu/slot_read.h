// slot_read.h — one query row of R read heads reading a slot-major memory (a decoding step's
// read), F32, in the phases that let a WorkerTeam share it without changing the result.
//
// The memory is slot-major, as machine::MemoryState's in-place buffers: keys and values
// [slots, S·W], slot j's row at j·S·W, slice s at s·W within it; read head h reads slice
// h·S/R (S = R: multi-head attention; S < R: grouped-query attention).
//
//   scores   e[h, j] = scale · q_h · K[j, h·S/R]      per chunk of kSlotChunk slots   [R, slots]
//   softmax  w[h, :] = softmax(e[h, :])               per head (max-shifted, exp_f32)
//   values   p[c, h] = Σ_{j in chunk c} w[h, j] · V[j, h·S/R]  per chunk              [chunks, R·W]
//   sum      r[h] = Σ_c p[c, h], in chunk order        per head                        [R·W]
//
// Each phase sweeps its slots one row at a time, every head of a row before the next row: one
// stream front to back through memory. (Four slots at a time, head by head — four streams
// 1 KiB apart at T2's size — read the same bytes 1.5–1.8× slower than the head-major floor
// in bench/decode_floor; one row at a time reads them 0.7–0.9× as long; one head at a time
// over its slice of every row — what a team split by heads would do — 1.6–1.8× as long;
// software prefetch made no difference to any.) Blocks are fixed ranges (a chunk, a head), so the result does
// not depend on which thread runs which block; slot_read runs them all on the caller, in the
// same arithmetic.
#pragma once
#include <cstdint>

namespace sdnc::cpu {

// Slots per chunk of the score and value phases (fixed: the partial sums, and so the
// results, must not depend on the threads).
inline constexpr int64_t kSlotChunk = 64;

struct SlotReadShape {
  int64_t R = 0, S = 0, W = 0;  // read heads, memory slices, word size
  float scale = 1.0f;           // of the scores (1/√W for attention)
};

inline int64_t slot_chunks(int64_t slots) { return (slots + kSlotChunk - 1) / kSlotChunk; }

// scores [R, slots]: row h's entries [j0, j1) ← scale · q_h · K_j.
void slot_scores(const SlotReadShape& s, const float* q, const float* keys, int64_t slots, int64_t j0, int64_t j1,
                 float* scores);
// row [n] ← softmax(row), in place.
void softmax_in_place(float* row, int64_t n);
// out [R·W] ← Σ_{j in [j0, j1)} weights[h, j] · V_j (slice of head h), weights [R, slots].
void slot_values(const SlotReadShape& s, const float* weights, const float* values, int64_t slots, int64_t j0,
                 int64_t j1, float* out);
// reads_h [W] ← Σ_c partial[c, h] in chunk order, partial [chunks, R·W].
void sum_chunks(const SlotReadShape& s, const float* partial, int64_t chunks, int64_t h, float* reads_h);

// The whole read on the calling thread: scores [R, slots] and partial [chunks, R·W] are scratch;
// reads [R·W]. Equal bit for bit to the phases run on any number of threads.
void slot_read(const SlotReadShape& s, const float* q, const float* keys, const float* values, int64_t slots,
               float* scores, float* partial, float* reads);

}  // namespace sdnc::cpu
