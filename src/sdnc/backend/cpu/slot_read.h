// slot_read.h — one query row of R read heads reading a slot-major memory (a decoding step's
// read), F32, in two phases that let a WorkerTeam share it without changing the result.
//
// The memory is slot-major, as machine::MemoryState's in-place buffers: keys and values
// [slots, S·W], slot j's row at j·S·W, slice s at s·W within it; read head h reads slice
// h·S/R (S = R: multi-head attention; S < R: grouped-query attention). The read is
//   r_h = Σ_j softmax_j(scale · q_h · K[j, h·S/R]) · V[j, h·S/R]
// computed per chunk c of kSlotChunk slots as a softmax with the chunk's own maximum
// (FlashAttention's running form), then combined in chunk order:
//   chunk    e_hj = scale · q_h · K_j,  m_ch = max_j e_hj,  l_ch = Σ_j exp(e_hj − m_ch),
//            p_ch = Σ_j exp(e_hj − m_ch) · V_j                     per chunk   [chunks, R, W]
//   combine  M = max_c m_ch,  r_h = Σ_c exp(m_ch − M) p_ch / Σ_c exp(m_ch − M) l_ch
//                                                                  per head    [R·W]
// so a chunk's keys and values are read once, together, and the phases per layer are two.
//
// Each chunk sweeps its slots one row at a time, every head of a row before the next row: one
// stream front to back through memory. (Four slots at a time, head by head — four streams
// 1 KiB apart at T2's size — read the same bytes 1.5–1.8× slower than the head-major floor
// in bench/decode_floor; one row at a time reads them 0.7–0.9× as long; one head at a time
// over its slice of every row — what a team split by heads would do — 1.6–1.8× as long;
// software prefetch made no difference to any.) Blocks are fixed ranges (a chunk, a head), so
// the result does not depend on which thread runs which block; slot_read runs them all on the
// caller, in the same arithmetic.
#pragma once
#include <cstdint>

namespace sdnc::cpu {

// Slots per chunk (fixed: the partial sums, and so the results, must not depend on threads).
inline constexpr int64_t kSlotChunk = 64;

struct SlotReadShape {
  int64_t R = 0, S = 0, W = 0;  // read heads, memory slices, word size
  float scale = 1.0f;           // of the scores (1/√W for attention)
};

inline int64_t slot_chunks(int64_t slots) { return (slots + kSlotChunk - 1) / kSlotChunk; }

// Chunk c of the read: slots [c·kSlotChunk, min(slots, (c+1)·kSlotChunk)).
// e [R, kSlotChunk] is scratch; writes partial [R·W] (p_c) and stats [2R] (m_c, then l_c).
void slot_read_chunk(const SlotReadShape& s, const float* q, const float* keys, const float* values, int64_t slots,
                     int64_t c, float* e, float* partial, float* stats);

// Head h's read from every chunk's partial [chunks, R·W] and stats [chunks, 2R]: reads_h [W].
void combine_chunks(const SlotReadShape& s, const float* partial, const float* stats, int64_t chunks, int64_t h,
                    float* reads_h);

// The whole read on the calling thread: e [R, kSlotChunk], partial [chunks, R·W] and stats
// [chunks, 2R] are scratch; reads [R·W]. Equal bit for bit to the phases on any threads.
void slot_read(const SlotReadShape& s, const float* q, const float* keys, const float* values, int64_t slots,
               float* e, float* partial, float* stats, float* reads);

}  // namespace sdnc::cpu
