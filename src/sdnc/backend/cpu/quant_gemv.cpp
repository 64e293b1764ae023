// backend/cpu/quant_gemv.cpp — quantised GEMV: per block a dot of x with the integer codes,
// then one scale (and for Q4_1 one offset times the block's Σx).
//
// Kernels, compiled when the build's -march has them (CMake's SDNC_NATIVE: -march=native):
//   AVX-512F  16 codes → 16 floats per instruction pair (vpmovzxbd + vcvtdq2ps), FMA with x
//   AVX2+FMA   8 codes per pair, the same arithmetic (+F16C for the block scales)
//   portable   the scalar loop (every build)
// QuantPath picks one (the tests run each this build has); Fastest = the widest compiled.
// A row's per-block products stay in vector lanes (acc += d·(x⊙q)) and are reduced once
// at the end of the row; Q4_1's offsets (m·Σx per block) and Q4_0's −8 (folded into the
// codes as signed values) are exact in F32 up to rounding.
#include "sdnc/backend/cpu/quant_gemv.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>
#define SDNC_QUANT_AVX2 1
#if defined(__AVX512F__)
#define SDNC_QUANT_AVX512 1
#endif
#endif

#include "sdnc/core/error.h"

namespace sdnc::cpu {

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {  // subnormal: normalise
    int e = -1;
    do { ++e; mant <<= 1; } while ((mant & 0x400) == 0);
    bits = sign | (static_cast<uint32_t>(112 - e) << 23) | ((mant & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

int64_t quant_block_bytes(QuantType t) {
  switch (t) {
    case QuantType::Q4_0: return 18;
    case QuantType::Q4_1: return 20;
    case QuantType::Q8_0: return 34;
  }
  return 0;
}

namespace {
// The path a request runs on in this build (a kernel the build lacks falls back).
QuantPath resolve(QuantPath path) {
#if defined(SDNC_QUANT_AVX512)
  if (path == QuantPath::Fastest) return QuantPath::Avx512;
#elif defined(SDNC_QUANT_AVX2)
  if (path == QuantPath::Fastest || path == QuantPath::Avx512) return QuantPath::Avx2;
#endif
#if !defined(SDNC_QUANT_AVX2)
  return QuantPath::Portable;
#endif
  return path;
}
}  // namespace

const char* quant_gemv_kernel(QuantPath path) {
  switch (resolve(path)) {
    case QuantPath::Avx512: return "avx512";
    case QuantPath::Avx2: return "avx2";
    default: return "portable";
  }
}

namespace {

inline uint16_t load_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

// ---- portable: Σ_j x[j]·q[j] of one block, scaled per block ------------------------------

inline float dot_q4(const float* x, const uint8_t* qs) {
  float acc = 0.f;
  for (int j = 0; j < 16; ++j)
    acc += x[j] * static_cast<float>(qs[j] & 15) + x[j + 16] * static_cast<float>(qs[j] >> 4);
  return acc;
}

inline float dot_q8(const float* x, const int8_t* qs) {
  float acc = 0.f;
  for (int j = 0; j < 32; ++j) acc += x[j] * static_cast<float>(qs[j]);
  return acc;
}

// One row of W times one row of x; xsum [blocks] holds x's Σ per block (Q4 types only).
float row_dot_portable(QuantType type, int64_t blocks, const float* x, const float* xsum, const uint8_t* row) {
  const int64_t bb = quant_block_bytes(type);
  float acc = 0.f;
  for (int64_t b = 0; b < blocks; ++b) {
    const uint8_t* blk = row + b * bb;
    const float d = half_to_float(load_u16(blk));
    const float* xb = x + b * 32;
    switch (type) {
      case QuantType::Q4_0: acc += d * (dot_q4(xb, blk + 2) - 8.f * xsum[b]); break;
      case QuantType::Q4_1: acc += d * dot_q4(xb, blk + 4) + half_to_float(load_u16(blk + 2)) * xsum[b]; break;
      case QuantType::Q8_0: acc += d * dot_q8(xb, reinterpret_cast<const int8_t*>(blk + 2)); break;
    }
  }
  return acc;
}

#if defined(SDNC_QUANT_AVX2)

inline float half_to_float_f16c(const uint8_t* p) { return _cvtsh_ss(load_u16(p)); }

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

#if defined(SDNC_QUANT_AVX512)
// The maskz_ forms with a full mask: GCC 12's unmasked ones start from _mm512_undefined_*,
// which its -Wuninitialized reports inside the header.
inline __m512 u8_to_f32(__m128i v) { return _mm512_maskz_cvtepi32_ps(0xffff, _mm512_maskz_cvtepu8_epi32(0xffff, v)); }
inline __m512 i8_to_f32(__m128i v) { return _mm512_maskz_cvtepi32_ps(0xffff, _mm512_maskz_cvtepi8_epi32(0xffff, v)); }

// d·(x ⊙ q) of one block as 16 lanes, added to acc; Q4_1's m·Σx added to *offsets.
template <QuantType T>
inline __m512 block_avx512(const uint8_t* blk, const float* xb, const float* xsum_b, __m512 acc, float* offsets) {
  __m512 lo, hi;
  if constexpr (T == QuantType::Q8_0) {
    lo = i8_to_f32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2)));
    hi = i8_to_f32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 18)));
  } else {
    // Q4_0's codes are signed after −8: as bytes (q & 15) − 8 they widen with sign.
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + (T == QuantType::Q4_1 ? 4 : 2)));
    const __m128i mask = _mm_set1_epi8(15);
    const __m128i l = _mm_and_si128(q, mask), h = _mm_and_si128(_mm_srli_epi16(q, 4), mask);
    if constexpr (T == QuantType::Q4_1) {
      lo = u8_to_f32(l), hi = u8_to_f32(h);
      *offsets += half_to_float_f16c(blk + 2) * *xsum_b;
    } else {
      const __m128i eight = _mm_set1_epi8(8);
      lo = i8_to_f32(_mm_sub_epi8(l, eight)), hi = i8_to_f32(_mm_sub_epi8(h, eight));
    }
  }
  const __m512 s = _mm512_fmadd_ps(_mm512_loadu_ps(xb + 16), hi, _mm512_mul_ps(_mm512_loadu_ps(xb), lo));
  return _mm512_fmadd_ps(s, _mm512_set1_ps(half_to_float_f16c(blk)), acc);
}

// Two blocks per iteration into two accumulators (the FMA chains overlap).
template <QuantType T>
float row_dot_avx512(int64_t blocks, const float* x, const float* xsum, const uint8_t* row) {
  constexpr int64_t bb = T == QuantType::Q4_0 ? 18 : T == QuantType::Q4_1 ? 20 : 34;
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  float off0 = 0.f, off1 = 0.f;
  int64_t b = 0;
  for (; b + 1 < blocks; b += 2) {
    acc0 = block_avx512<T>(row + b * bb, x + b * 32, xsum + b, acc0, &off0);
    acc1 = block_avx512<T>(row + (b + 1) * bb, x + (b + 1) * 32, xsum + b + 1, acc1, &off1);
  }
  if (b < blocks) acc0 = block_avx512<T>(row + b * bb, x + b * 32, xsum + b, acc0, &off0);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, _mm512_add_ps(acc0, acc1));
  return hsum(_mm256_add_ps(_mm256_load_ps(lanes), _mm256_load_ps(lanes + 8))) + (off0 + off1);
}

float row_dot_avx512(QuantType type, int64_t blocks, const float* x, const float* xsum, const uint8_t* row) {
  switch (type) {
    case QuantType::Q4_0: return row_dot_avx512<QuantType::Q4_0>(blocks, x, xsum, row);
    case QuantType::Q4_1: return row_dot_avx512<QuantType::Q4_1>(blocks, x, xsum, row);
    case QuantType::Q8_0: return row_dot_avx512<QuantType::Q8_0>(blocks, x, xsum, row);
  }
  return 0.f;
}
#endif  // SDNC_QUANT_AVX512

// AVX2 + FMA (also built, and tested, where AVX-512 is there).


inline __m256 bytes_to_floats(__m128i eight_bytes, bool is_signed, __m256i offset) {
  const __m256i i = is_signed ? _mm256_cvtepi8_epi32(eight_bytes) : _mm256_cvtepu8_epi32(eight_bytes);
  return _mm256_cvtepi32_ps(_mm256_sub_epi32(i, offset));
}

float row_dot_avx2(QuantType type, int64_t blocks, const float* x, const float* xsum, const uint8_t* row) {
  __m256 acc = _mm256_setzero_ps();
  float offsets = 0.f;
  const int64_t bb = quant_block_bytes(type);
  const __m256i offset = _mm256_set1_epi32(type == QuantType::Q4_0 ? 8 : 0);
  const __m128i mask = _mm_set1_epi8(15);
  for (int64_t b = 0; b < blocks; ++b) {
    const uint8_t* blk = row + b * bb;
    const __m256 d = _mm256_set1_ps(half_to_float_f16c(blk));
    const float* xb = x + b * 32;
    __m128i c0, c1;  // codes 0..15 and 16..31, one byte each
    const bool q8 = type == QuantType::Q8_0;
    if (q8) {
      c0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2));
      c1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 18));
    } else {
      const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + (type == QuantType::Q4_1 ? 4 : 2)));
      c0 = _mm_and_si128(q, mask);
      c1 = _mm_and_si128(_mm_srli_epi16(q, 4), mask);
      if (type == QuantType::Q4_1) offsets += half_to_float_f16c(blk + 2) * xsum[b];
    }
    __m256 s = _mm256_mul_ps(_mm256_loadu_ps(xb), bytes_to_floats(c0, q8, offset));
    s = _mm256_fmadd_ps(_mm256_loadu_ps(xb + 8), bytes_to_floats(_mm_srli_si128(c0, 8), q8, offset), s);
    s = _mm256_fmadd_ps(_mm256_loadu_ps(xb + 16), bytes_to_floats(c1, q8, offset), s);
    s = _mm256_fmadd_ps(_mm256_loadu_ps(xb + 24), bytes_to_floats(_mm_srli_si128(c1, 8), q8, offset), s);
    acc = _mm256_fmadd_ps(s, d, acc);
  }
  return hsum(acc) + offsets;
}
#endif  // SDNC_QUANT_AVX2

}  // namespace

void quant_rows_times_weight_t(QuantType type, int64_t M, int64_t K, const float* x, int64_t ldx,
                               const uint8_t* W, float* y, int64_t ldy, int64_t o0, int64_t o1,
                               bool accumulate, QuantPath path) {
  SDNC_CHECK(K % 32 == 0, "quant_gemv", "K = {} is not a multiple of the 32-element block", K);
  const int64_t blocks = K / 32, row_bytes = blocks * quant_block_bytes(type);
  // Σx per block and row (Q4_1's offset m; the portable Q4_0's −8). Small: on the stack
  // up to 8 rows of K = 4096, so a decoding step allocates nothing here.
  float xsum_stack[1024];
  std::vector<float> xsum_heap;
  float* xsum = xsum_stack;
  if (M * blocks > 1024) {
    xsum_heap.resize(static_cast<size_t>(M * blocks));
    xsum = xsum_heap.data();
  }
  if (type != QuantType::Q8_0)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t b = 0; b < blocks; ++b) {
        float s = 0.f;
        for (int j = 0; j < 32; ++j) s += x[m * ldx + b * 32 + j];
        xsum[m * blocks + b] = s;
      }
  auto row_dot = row_dot_portable;
#if defined(SDNC_QUANT_AVX2)
  if (resolve(path) == QuantPath::Avx2) row_dot = row_dot_avx2;
#endif
#if defined(SDNC_QUANT_AVX512)
  if (resolve(path) == QuantPath::Avx512) row_dot = row_dot_avx512;
#endif
  // One weight row (K/32 blocks, a few hundred bytes: it stays in L1) for all M rows of x.
  for (int64_t o = o0; o < o1; ++o) {
    const uint8_t* row = W + o * row_bytes;
    for (int64_t m = 0; m < M; ++m) {
      const float v = row_dot(type, blocks, x + m * ldx, xsum + m * blocks, row);
      float& out = y[m * ldy + o];
      out = accumulate ? out + v : v;
    }
  }
}

// ---- 8-bit activations (llama.cpp's way): integer dot products per block -------------------

void quantize_rows_q8(int64_t M, int64_t K, const float* x, int64_t ldx, int8_t* codes, float* scale, float* sum) {
  SDNC_CHECK(K % 32 == 0, "quant_gemv", "K = {} is not a multiple of the 32-element block", K);
  const int64_t blocks = K / 32;
  for (int64_t m = 0; m < M; ++m)
    for (int64_t b = 0; b < blocks; ++b) {
      const float* xb = x + m * ldx + b * 32;
      int8_t* q = codes + m * K + b * 32;
      float amax = 0.f, s = 0.f;
      for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(xb[j])), s += xb[j];
      const float d = amax / 127.f, inv = d > 0.f ? 1.f / d : 0.f;
      for (int j = 0; j < 32; ++j) q[j] = static_cast<int8_t>(std::nearbyint(xb[j] * inv));
      scale[m * blocks + b] = d;
      sum[m * blocks + b] = s;
    }
}

namespace {

// Σ_j code_j · xq_j of one block (integer; codes 0..15 for Q4, signed for Q8_0).
inline int32_t idot_portable(QuantType type, const uint8_t* blk, const int8_t* xq) {
  int32_t acc = 0;
  if (type == QuantType::Q8_0) {
    const int8_t* w = reinterpret_cast<const int8_t*>(blk + 2);
    for (int j = 0; j < 32; ++j) acc += w[j] * xq[j];
  } else {
    const uint8_t* qs = blk + (type == QuantType::Q4_1 ? 4 : 2);
    for (int j = 0; j < 16; ++j) acc += (qs[j] & 15) * xq[j] + (qs[j] >> 4) * xq[j + 16];
  }
  return acc;
}

// The F32 terms of a block beside d_w·d_x·Σ code·xq: Q4_1's m·Σx, Q4_0's −8·d_w·Σx (the
// exact F32 Σx of the block, not its 8-bit image).
inline float block_offset(QuantType type, const uint8_t* blk, float xsum) {
  if (type == QuantType::Q4_1) return half_to_float(load_u16(blk + 2)) * xsum;
  if (type == QuantType::Q4_0) return -8.f * half_to_float(load_u16(blk)) * xsum;
  return 0.f;
}

float row_idot_portable(QuantType type, int64_t blocks, const int8_t* xq, const float* xd, const float* xs,
                        const uint8_t* row) {
  const int64_t bb = quant_block_bytes(type);
  float acc = 0.f;
  for (int64_t b = 0; b < blocks; ++b) {
    const uint8_t* blk = row + b * bb;
    acc += half_to_float(load_u16(blk)) * xd[b] * static_cast<float>(idot_portable(type, blk, xq + b * 32)) +
           block_offset(type, blk, xs[b]);
  }
  return acc;
}

#if defined(SDNC_QUANT_AVX2)
// The block's 32 weight codes as bytes in x's order; Q8_0's signs moved onto x (the u8 × s8
// products of maddubs/dpbusd take the first operand unsigned).
template <QuantType T>
inline void codes_u8(const uint8_t* blk, __m256i& w, __m256i& x) {
  if constexpr (T == QuantType::Q8_0) {
    const __m256i s = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 2));
    x = _mm256_sign_epi8(x, s);
    w = _mm256_sign_epi8(s, s);
  } else {
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + (T == QuantType::Q4_1 ? 4 : 2)));
    const __m128i mask = _mm_set1_epi8(15);
    w = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), mask), _mm_and_si128(q, mask));
  }
}

// 8 lanes of the block's Σ code·xq (each lane a sum of 4 products).
template <QuantType T, bool kVnni>
inline __m256i idot_lanes(const uint8_t* blk, const int8_t* xq) {
  __m256i w, x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq));
  codes_u8<T>(blk, w, x);
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
  if constexpr (kVnni) return _mm256_dpbusd_epi32(_mm256_setzero_si256(), w, x);
#endif
  // |products| ≤ 255·127 for Q8_0's pairs: maddubs' i16 sums (≤ 2·127·127) do not saturate.
  return _mm256_madd_epi16(_mm256_maddubs_epi16(w, x), _mm256_set1_epi16(1));
}

// Four blocks per iteration, each into its own vector and scalar accumulator (the FMA
// chains, 4 cycles each, overlap instead of serialising).
template <QuantType T, bool kVnni>
float row_idot_simd(int64_t blocks, const int8_t* xq, const float* xd, const float* xs, const uint8_t* row) {
  constexpr int64_t bb = T == QuantType::Q4_0 ? 18 : T == QuantType::Q4_1 ? 20 : 34;
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  float off[4] = {0.f, 0.f, 0.f, 0.f};
  auto one = [&](int64_t b, int u) {
    const uint8_t* blk = row + b * bb;
    const __m256 p = _mm256_cvtepi32_ps(idot_lanes<T, kVnni>(blk, xq + b * 32));
    const float dw = half_to_float_f16c(blk);
    if constexpr (T == QuantType::Q4_1) off[u] += half_to_float_f16c(blk + 2) * xs[b];
    if constexpr (T == QuantType::Q4_0) off[u] -= 8.f * dw * xs[b];
    acc[u] = _mm256_fmadd_ps(p, _mm256_set1_ps(dw * xd[b]), acc[u]);
  };
  int64_t b = 0;
  for (; b + 3 < blocks; b += 4) one(b, 0), one(b + 1, 1), one(b + 2, 2), one(b + 3, 3);
  for (; b < blocks; ++b) one(b, 0);
  return hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]))) +
         ((off[0] + off[1]) + (off[2] + off[3]));
}

template <bool kVnni>
float row_idot_simd(QuantType type, int64_t blocks, const int8_t* xq, const float* xd, const float* xs,
                    const uint8_t* row) {
  switch (type) {
    case QuantType::Q4_0: return row_idot_simd<QuantType::Q4_0, kVnni>(blocks, xq, xd, xs, row);
    case QuantType::Q4_1: return row_idot_simd<QuantType::Q4_1, kVnni>(blocks, xq, xd, xs, row);
    case QuantType::Q8_0: return row_idot_simd<QuantType::Q8_0, kVnni>(blocks, xq, xd, xs, row);
  }
  return 0.f;
}
#endif  // SDNC_QUANT_AVX2

}  // namespace

void quant_rows_times_weight_t_q8(QuantType type, int64_t M, int64_t K, const int8_t* codes, const float* scale,
                                  const float* sum, const uint8_t* W, float* y, int64_t ldy, int64_t o0, int64_t o1,
                                  bool accumulate, QuantPath path) {
  SDNC_CHECK(K % 32 == 0, "quant_gemv", "K = {} is not a multiple of the 32-element block", K);
  const int64_t blocks = K / 32, row_bytes = blocks * quant_block_bytes(type);
  auto row_dot = row_idot_portable;
#if defined(SDNC_QUANT_AVX2)
  if (resolve(path) == QuantPath::Avx2) row_dot = row_idot_simd<false>;
#endif
#if defined(SDNC_QUANT_AVX512)
  if (resolve(path) == QuantPath::Avx512) row_dot = row_idot_simd<true>;
#endif
  for (int64_t o = o0; o < o1; ++o) {
    const uint8_t* row = W + o * row_bytes;
    for (int64_t m = 0; m < M; ++m) {
      const float v = row_dot(type, blocks, codes + m * K, scale + m * blocks, sum + m * blocks, row);
      float& out = y[m * ldy + o];
      out = accumulate ? out + v : v;
    }
  }
}

}  // namespace sdnc::cpu
