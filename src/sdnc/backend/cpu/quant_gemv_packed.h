// backend/cpu/quant_gemv_packed.h — the quantised GEMV of a decoding step on weights repacked
// once at load, so that one pass computes 16 output rows and the per-block scale work (fp16 →
// F32, the multiply by x's scale, Q4_1's offset) is one vector operation per 16 rows instead of
// scalar work per row (what bounded quant_gemv.h's row-by-row kernels: decisions §22, §26).
//
// Layout. A weight W [N, K] in Q4_0 / Q4_1 / Q8_0 blocks (quant_gemv.h) becomes ⌈N/16⌉ tiles of
// 16 rows; a tile is K/32 records, one per block column b, each holding the 16 rows' block b:
//   codes  Q4: 4 × 64 bytes P_k (k < 4): byte 4r + i = code(r, 4k + i) | code(r, 16 + 4k + i) << 4
//          Q8: 8 × 64 bytes C_j (j < 8): byte 4r + i = code(r, 4j + i) (signed)
//          i.e. lane r (32 bits) of a 64-byte vector holds 4 consecutive codes of row r: one
//          vpdpbusd with x's 4 codes broadcast gives each of the 16 rows its 4 products.
//   d      16 × fp16, the rows' block scales (kept as fp16: the same bytes as the file; one
//          vcvtph2ps converts the 16)
//   m      16 × fp16, Q4_1's block minima (Q4_1 only)
// A record is exactly the bytes of the 16 blocks it replaces (Q4_0 288, Q4_1 320, Q8_0 544),
// so a step streams the same bytes as before, in one sequential pass per tile. Rows past N
// in the last tile are zero.
//
// Kernels, chosen at run time from the CPU (cpuid), each tested where the CPU runs it:
//   Avx512   AVX-512 F/BW/VL + VNNI (vpdpbusd); F32 activations: AVX-512F FMAs
//   Avx2     AVX2 + FMA + F16C (vpmaddubsw + vpmaddwd; a tile as two halves of 8 rows)
//   Portable the scalar loop (every CPU, every build)
// Fastest = the widest the CPU has; a path the CPU lacks runs the next narrower one.
//
// Letters: M rows of x, K inputs, N outputs.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "sdnc/backend/cpu/quant_gemv.h"

namespace sdnc::cpu {

struct PackedQuantWeight {
  QuantType type = QuantType::Q8_0;
  int64_t rows = 0, cols = 0;   // N, K
  std::shared_ptr<void> bytes;  // [⌈N/16⌉, K/32, record_bytes()] (core/weight_arena.h)
  const uint8_t* data() const { return static_cast<const uint8_t*>(bytes.get()); }
  static constexpr int64_t kTile = 16;
  int64_t tiles() const { return (rows + kTile - 1) / kTile; }
  int64_t blocks() const { return cols / 32; }
  int64_t code_bytes() const { return type == QuantType::Q8_0 ? 512 : 256; }
  int64_t record_bytes() const { return code_bytes() + (type == QuantType::Q4_1 ? 64 : 32); }
};

// The repacked copy of W [N, K] (row-major blocks as the file stores them). K % 32 == 0.
PackedQuantWeight pack_quant_weight(QuantType type, int64_t N, int64_t K, const uint8_t* W);

//   y[m, o] ← (accumulate ? y[m, o] : 0) + Σ_i x[m, i] · W[o, i]     for m < M, o0 ≤ o < o1
// with F32 activations x [M, K] (row stride ldx); the same sums as quant_rows_times_weight_t up
// to F32 rounding order. Ranges that are multiples of 16 waste nothing; others compute the
// tiles they touch and write only [o0, o1).
void packed_rows_times_weight_t(const PackedQuantWeight& w, int64_t M, const float* x, int64_t ldx, float* y,
                                int64_t ldy, int64_t o0, int64_t o1, bool accumulate,
                                QuantPath path = QuantPath::Fastest);

// The same with 8-bit activations (quantize_rows_q8's codes [M, K], scale and sum [M, K/32]):
// per block d_w·d·Σ q·codes (integer), + m·sum (Q4_1) or −8·d_w·sum (Q4_0): the arithmetic of
// quant_rows_times_weight_t_q8, so the same rounding bound holds.
void packed_rows_times_weight_t_q8(const PackedQuantWeight& w, int64_t M, const int8_t* codes, const float* scale,
                                   const float* sum, float* y, int64_t ldy, int64_t o0, int64_t o1, bool accumulate,
                                   QuantPath path = QuantPath::Fastest);

// The kernel `path` runs on this CPU: "avx512-vnni", "avx2" or "portable".
const char* packed_gemv_kernel(QuantPath path = QuantPath::Fastest);

}  // namespace sdnc::cpu
