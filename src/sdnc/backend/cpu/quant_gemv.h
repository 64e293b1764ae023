// backend/cpu/quant_gemv.h — a few rows times a weight matrix stored in ggml's quantised blocks,
// read directly as the file stores them, row by row (no F32 copy of the weights). A decoding
// step uses the faster 16-row tiles of quant_gemv_packed.h, made from these blocks at load;
// these kernels remain the reference the tests and `real_bench kernel` compare them with.
//
// A weight W [N, K] (Linear layout, out × in) is N rows of K/32 blocks; row o starts at byte
// o · (K/32) · block_bytes. Blocks of 32 elements (ggml's definitions, as in io/gguf.h):
//   Q4_0 {f16 d; u8 qs[16]}           w[j] = ((qs[j] & 15) − 8)·d,  w[j+16] = ((qs[j] >> 4) − 8)·d
//   Q4_1 {f16 d; f16 m; u8 qs[16]}    w[j] = (qs[j] & 15)·d + m,    w[j+16] = (qs[j] >> 4)·d + m
//   Q8_0 {f16 d; i8 qs[32]}           w[j] = qs[j]·d
// Per block the kernel sums x·q in F32 and scales once: Σ_j x_j·w_j = d·Σ_j x_j·q_j (+ m·Σ_j x_j),
// the same sum as dequantise-then-dot up to F32 rounding order (tests/unit/test_quant_gemv.cpp
// bounds the difference). Activations stay F32 (llama.cpp instead quantises them to 8 bits).
// Serial over a range of output columns [o0, o1); a caller's parallel region splits them.
// Kernels: AVX-512F or AVX2+FMA+F16C when the build's -march has them (SDNC_NATIVE), else the
// portable scalar loop; QuantPath picks one (the tests compare each with double precision). No
// allocation for M·K/32 ≤ 1024 (a decoding step's rows).
//
// Letters: M rows (≤ kGemvMaxRows per call is the intended use), K inputs, N outputs.
#pragma once
#include <cstdint>

namespace sdnc::cpu {

enum class QuantType { Q4_0, Q4_1, Q8_0 };
// Fastest: the widest SIMD kernel this build has. Avx512 / Avx2: that kernel (a build without
// it runs the next narrower one). Portable: the scalar loop.
enum class QuantPath { Fastest, Avx512, Avx2, Portable };

// Bytes of one block of 32 elements.
int64_t quant_block_bytes(QuantType t);

//   y[m, o] ← (accumulate ? y[m, o] : 0) + Σ_i x[m, i] · W[o, i]     for m < M, o0 ≤ o < o1.
// K must be a multiple of 32; x [M, K] with row stride ldx; y with row stride ldy.
void quant_rows_times_weight_t(QuantType type, int64_t M, int64_t K, const float* x, int64_t ldx,
                               const uint8_t* W, float* y, int64_t ldy, int64_t o0, int64_t o1,
                               bool accumulate, QuantPath path = QuantPath::Fastest);

// 8-bit activations (llama.cpp quantises x the same way, its Q8_0): per row and block of 32,
//   d = max_j |x_j| / 127,  codes_j = round(x_j / d) (nearest, ties to even),  sum = Σ_j x_j (F32)
// x [M, K] (row stride ldx) → codes [M, K], scale [M, K/32], sum [M, K/32].
struct Q8Rows {
  const int8_t* codes;
  const float* scale;
  const float* sum;
};
void quantize_rows_q8(int64_t M, int64_t K, const float* x, int64_t ldx, int8_t* codes, float* scale, float* sum);

// The product with 8-bit activations: per block an integer dot Σ_j q_j·codes_j (AVX-512 VNNI
// vpdpbusd, AVX2 vpmaddubsw, or plain ints), then
//   d_w·d·Σ q·codes  (+ m·sum for Q4_1, −8·d_w·sum for Q4_0: the exact F32 sums)
// The extra error against F32 activations is the rounding of x: |x_j − d·codes_j| ≤ d/2, so
// per block at most (max|x|/254)·Σ_j |w_j| (tests/unit/test_quant_gemv.cpp holds it to that).
void quant_rows_times_weight_t_q8(QuantType type, int64_t M, int64_t K, const int8_t* codes, const float* scale,
                                  const float* sum, const uint8_t* W, float* y, int64_t ldy, int64_t o0, int64_t o1,
                                  bool accumulate, QuantPath path = QuantPath::Fastest);

// The kernel `path` runs in this build: "avx512", "avx2" or "portable".
const char* quant_gemv_kernel(QuantPath path = QuantPath::Fastest);

// IEEE half → float (exact; subnormals, infinities and NaN included).
float half_to_float(uint16_t h);

}  // namespace sdnc::cpu
