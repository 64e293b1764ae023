// backend/cpu/quant_gemv_packed.cpp — the 16-row tiled quantised GEMV (layout in the header).
//
// Per tile and block, every kernel computes the 16 rows' integer (or F32) dots of x's block
// with the codes, then scales all 16 with one vector of d (fp16 → F32), and adds Q4_1's m·Σx
// (Q4_0's −8·d·Σx) as one more vector FMA. The kernels are compiled for their instruction
// sets with target attributes and picked at run time (cpuid), independently of -march.
#include "sdnc/backend/cpu/quant_gemv_packed.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "sdnc/core/error.h"
#include "sdnc/core/weight_arena.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define SDNC_PACKED_X86 1
#define SDNC_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))
#define SDNC_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
#endif

namespace sdnc::cpu {

namespace {

constexpr int64_t kTile = PackedQuantWeight::kTile;
// A record's code bytes and whole size (PackedQuantWeight::code_bytes / record_bytes) for T.
template <QuantType T> constexpr int64_t kCodeBytes = T == QuantType::Q8_0 ? 512 : 256;
template <QuantType T> constexpr int64_t kRecordBytes = kCodeBytes<T> + (T == QuantType::Q4_1 ? 64 : 32);

inline uint16_t load_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline int32_t load_i32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// What the CPU runs (cpuid; the OS's saving of the registers is checked by libgcc).
bool cpu_has_avx2() {
#if defined(SDNC_PACKED_X86)
  unsigned a, b, c, d;
  const bool f16c = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C);
  return f16c && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}
bool cpu_has_avx512_vnni() {
#if defined(SDNC_PACKED_X86)
  return cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
#else
  return false;
#endif
}

QuantPath resolve(QuantPath path) {
  static const bool avx512 = cpu_has_avx512_vnni(), avx2 = cpu_has_avx2();
  if ((path == QuantPath::Fastest || path == QuantPath::Avx512) && avx512) return QuantPath::Avx512;
  if (path != QuantPath::Portable && avx2) return QuantPath::Avx2;
  return QuantPath::Portable;
}

// The activations of one x row as every kernel reads them.
struct XRow {
  const float* x = nullptr;        // F32 [K] (F32 kernels)
  const int8_t* codes = nullptr;   // [K] (int8 kernels)
  const float* scale = nullptr;    // [K/32] d of x's blocks (int8)
  const float* sum = nullptr;      // [K/32] Σx per block (F32: computed here; int8: given)
  const int32_t* code_sum = nullptr;  // [K/32] Σ codes per block (the AVX-512 Q8_0 bias)
};

// ---- portable: the layout read code by code ---------------------------------------------

inline int code_at(QuantType type, const uint8_t* rec, int64_t r, int e) {
  if (type == QuantType::Q8_0) return static_cast<int8_t>(rec[(e / 4) * 64 + r * 4 + e % 4]);
  const int k = (e % 16) / 4, i = e % 4;
  const uint8_t byte = rec[k * 64 + r * 4 + i];
  return e < 16 ? (byte & 15) : (byte >> 4);
}

template <bool kInt8>
void tile_portable(QuantType type, const uint8_t* tile, int64_t blocks, int64_t record, int64_t code_bytes,
                   const XRow& xr, float* out) {
  for (int64_t r = 0; r < kTile; ++r) out[r] = 0.f;
  for (int64_t b = 0; b < blocks; ++b) {
    const uint8_t* rec = tile + b * record;
    for (int64_t r = 0; r < kTile; ++r) {
      const float d = half_to_float(load_u16(rec + code_bytes + 2 * r));
      float dot;
      if constexpr (kInt8) {
        int32_t acc = 0;
        for (int e = 0; e < 32; ++e) acc += code_at(type, rec, r, e) * xr.codes[b * 32 + e];
        dot = d * xr.scale[b] * static_cast<float>(acc);
      } else {
        float acc = 0.f;
        for (int e = 0; e < 32; ++e) acc += static_cast<float>(code_at(type, rec, r, e)) * xr.x[b * 32 + e];
        dot = d * acc;
      }
      if (type == QuantType::Q4_1) dot += half_to_float(load_u16(rec + code_bytes + 32 + 2 * r)) * xr.sum[b];
      if (type == QuantType::Q4_0) dot -= 8.f * d * xr.sum[b];
      out[r] += dot;
    }
  }
}

#if defined(SDNC_PACKED_X86)

// ---- AVX-512: 16 rows = 16 lanes --------------------------------------------------------

// The block's offset term (Q4_1 m·Σx, Q4_0 −8·d·Σx) into macc; d as 16 F32 lanes.
template <QuantType T>
SDNC_TARGET_AVX512 inline __m512 offset_avx512(const uint8_t* rec, __m512 d, float xsum, __m512 macc) {
  constexpr int64_t cb = kCodeBytes<T>;
  if constexpr (T == QuantType::Q4_1) {
    const __m512 m = _mm512_maskz_cvtph_ps(0xffff, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rec + cb + 32)));
    return _mm512_fmadd_ps(m, _mm512_set1_ps(xsum), macc);
  }
  if constexpr (T == QuantType::Q4_0) return _mm512_fmadd_ps(d, _mm512_set1_ps(-8.f * xsum), macc);
  return macc;
}

// Q8_0's 64 signed codes of vector j as unsigned: + 128 (xor 0x80).
SDNC_TARGET_AVX512 inline __m512i biased(const uint8_t* rec, int j, __m512i bias) {
  return _mm512_xor_si512(_mm512_loadu_si512(rec + 64 * j), bias);
}

template <QuantType T>
SDNC_TARGET_AVX512 void tile_q8_avx512(const uint8_t* tile, int64_t blocks, const XRow& xr, float* out) {
  constexpr int64_t cb = kCodeBytes<T>, record = kRecordBytes<T>;
  const __m512i low = _mm512_set1_epi8(15), bias = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps(), macc = _mm512_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b) {
    const uint8_t* rec = tile + b * record;
    const int8_t* xq = xr.codes + b * 32;
    __m512i i0 = _mm512_setzero_si512(), i1 = i0, i2 = i0, i3 = i0;
    if constexpr (T == QuantType::Q8_0) {
      // vpdpbusd multiplies unsigned × signed: the codes + 128 (xor 0x80), then −128·Σ x codes.
      i0 = _mm512_dpbusd_epi32(i0, biased(rec, 0, bias), _mm512_set1_epi32(load_i32(xq)));
      i1 = _mm512_dpbusd_epi32(i1, biased(rec, 1, bias), _mm512_set1_epi32(load_i32(xq + 4)));
      i2 = _mm512_dpbusd_epi32(i2, biased(rec, 2, bias), _mm512_set1_epi32(load_i32(xq + 8)));
      i3 = _mm512_dpbusd_epi32(i3, biased(rec, 3, bias), _mm512_set1_epi32(load_i32(xq + 12)));
      i0 = _mm512_dpbusd_epi32(i0, biased(rec, 4, bias), _mm512_set1_epi32(load_i32(xq + 16)));
      i1 = _mm512_dpbusd_epi32(i1, biased(rec, 5, bias), _mm512_set1_epi32(load_i32(xq + 20)));
      i2 = _mm512_dpbusd_epi32(i2, biased(rec, 6, bias), _mm512_set1_epi32(load_i32(xq + 24)));
      i3 = _mm512_dpbusd_epi32(i3, biased(rec, 7, bias), _mm512_set1_epi32(load_i32(xq + 28)));
      i0 = _mm512_sub_epi32(i0, _mm512_set1_epi32(128 * xr.code_sum[b]));
    } else {
      for (int k = 0; k < 4; k += 2) {
        const __m512i p0 = _mm512_loadu_si512(rec + 64 * k), p1 = _mm512_loadu_si512(rec + 64 * (k + 1));
        i0 = _mm512_dpbusd_epi32(i0, _mm512_and_si512(p0, low), _mm512_set1_epi32(load_i32(xq + 4 * k)));
        i1 = _mm512_dpbusd_epi32(i1, _mm512_and_si512(_mm512_maskz_srli_epi16(0xffffffff, p0, 4), low),
                                 _mm512_set1_epi32(load_i32(xq + 16 + 4 * k)));
        i2 = _mm512_dpbusd_epi32(i2, _mm512_and_si512(p1, low), _mm512_set1_epi32(load_i32(xq + 4 * k + 4)));
        i3 = _mm512_dpbusd_epi32(i3, _mm512_and_si512(_mm512_maskz_srli_epi16(0xffffffff, p1, 4), low),
                                 _mm512_set1_epi32(load_i32(xq + 20 + 4 * k)));
      }
    }
    const __m512i isum = _mm512_add_epi32(_mm512_add_epi32(i0, i1), _mm512_add_epi32(i2, i3));
    const __m512 d = _mm512_maskz_cvtph_ps(0xffff, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rec + cb)));
    const __m512 p = _mm512_maskz_cvtepi32_ps(0xffff, isum);
    const __m512 dd = _mm512_mul_ps(d, _mm512_set1_ps(xr.scale[b]));
    if (b % 2) acc1 = _mm512_fmadd_ps(p, dd, acc1);
    else acc0 = _mm512_fmadd_ps(p, dd, acc0);
    macc = offset_avx512<T>(rec, d, T == QuantType::Q8_0 ? 0.f : xr.sum[b], macc);
  }
  _mm512_storeu_ps(out, _mm512_add_ps(_mm512_add_ps(acc0, acc1), macc));
}

// Byte kByte of each 32-bit lane of v as 16 F32, signed (Q8_0's codes).
template <int kByte>
SDNC_TARGET_AVX512 inline __m512 lane_byte_avx512(__m512i v) {
  return _mm512_maskz_cvtepi32_ps(
      0xffff, _mm512_maskz_srai_epi32(0xffff, _mm512_maskz_slli_epi32(0xffff, v, 24 - 8 * kByte), 24));
}

// Σ over the 4 signed codes in each lane of v times x[0..3] into a0..a3.
SDNC_TARGET_AVX512 inline void fma4_avx512(__m512i v, const float* x, __m512& a0, __m512& a1, __m512& a2, __m512& a3) {
  a0 = _mm512_fmadd_ps(lane_byte_avx512<0>(v), _mm512_set1_ps(x[0]), a0);
  a1 = _mm512_fmadd_ps(lane_byte_avx512<1>(v), _mm512_set1_ps(x[1]), a1);
  a2 = _mm512_fmadd_ps(lane_byte_avx512<2>(v), _mm512_set1_ps(x[2]), a2);
  a3 = _mm512_fmadd_ps(lane_byte_avx512<3>(v), _mm512_set1_ps(x[3]), a3);
}

// Σ over the 4 nibbles at bit kShift of each byte of each lane of p (codes 0..15), times x[0..3].
template <int kShift>
SDNC_TARGET_AVX512 inline void nibbles4_avx512(__m512i p, __m512 values, const float* x, __m512& a0, __m512& a1,
                                               __m512& a2, __m512& a3) {
  const __m512i p0 = kShift == 0 ? p : _mm512_maskz_srli_epi32(0xffff, p, kShift);
  a0 = _mm512_fmadd_ps(_mm512_maskz_permutexvar_ps(0xffff, p0, values), _mm512_set1_ps(x[0]), a0);
  a1 = _mm512_fmadd_ps(_mm512_maskz_permutexvar_ps(0xffff, _mm512_maskz_srli_epi32(0xffff, p, kShift + 8), values),
                       _mm512_set1_ps(x[1]), a1);
  a2 = _mm512_fmadd_ps(_mm512_maskz_permutexvar_ps(0xffff, _mm512_maskz_srli_epi32(0xffff, p, kShift + 16), values),
                       _mm512_set1_ps(x[2]), a2);
  a3 = _mm512_fmadd_ps(_mm512_maskz_permutexvar_ps(0xffff, _mm512_maskz_srli_epi32(0xffff, p, kShift + 24), values),
                       _mm512_set1_ps(x[3]), a3);
}

template <QuantType T>
SDNC_TARGET_AVX512 void tile_f32_avx512(const uint8_t* tile, int64_t blocks, const XRow& xr, float* out) {
  constexpr int64_t cb = kCodeBytes<T>, record = kRecordBytes<T>;
  const __m512 values = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m512 acc = _mm512_setzero_ps(), macc = _mm512_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b) {
    const uint8_t* rec = tile + b * record;
    const float* xb = xr.x + b * 32;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    if constexpr (T == QuantType::Q8_0) {
      for (int j = 0; j < 8; ++j) fma4_avx512(_mm512_loadu_si512(rec + 64 * j), xb + 4 * j, a0, a1, a2, a3);
    } else {
      // A nibble → F32 by vpermps: it reads the low 4 bits of each lane, so shifting the lane
      // by 8i (low nibble of byte i) or 8i + 4 (its high nibble) is all the unpacking.
      for (int k = 0; k < 4; ++k) {
        const __m512i p = _mm512_loadu_si512(rec + 64 * k);
        nibbles4_avx512<0>(p, values, xb + 4 * k, a0, a1, a2, a3);
        nibbles4_avx512<4>(p, values, xb + 16 + 4 * k, a0, a1, a2, a3);
      }
    }
    const __m512 d = _mm512_maskz_cvtph_ps(0xffff, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rec + cb)));
    acc = _mm512_fmadd_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)), d, acc);
    macc = offset_avx512<T>(rec, d, T == QuantType::Q8_0 ? 0.f : xr.sum[b], macc);
  }
  _mm512_storeu_ps(out, _mm512_add_ps(acc, macc));
}

// ---- AVX2: a tile as two halves of 8 rows (bytes 32h..32h+31 of each 64-byte vector) -----

template <QuantType T>
SDNC_TARGET_AVX2 inline __m256 offset_avx2(const uint8_t* rec, int h, __m256 d, float xsum, __m256 macc) {
  constexpr int64_t cb = kCodeBytes<T>;
  if constexpr (T == QuantType::Q4_1) {
    const __m256 m = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rec + cb + 32 + 16 * h)));
    return _mm256_fmadd_ps(m, _mm256_set1_ps(xsum), macc);
  }
  if constexpr (T == QuantType::Q4_0) return _mm256_fmadd_ps(d, _mm256_set1_ps(-8.f * xsum), macc);
  return macc;
}

template <QuantType T>
SDNC_TARGET_AVX2 void tile_q8_avx2(const uint8_t* tile, int64_t blocks, const XRow& xr, float* out) {
  constexpr int64_t cb = kCodeBytes<T>, record = kRecordBytes<T>;
  const __m256i low = _mm256_set1_epi8(15), ones = _mm256_set1_epi16(1);
  for (int h = 0; h < 2; ++h) {
    __m256 acc = _mm256_setzero_ps(), macc = _mm256_setzero_ps();
    for (int64_t b = 0; b < blocks; ++b) {
      const uint8_t* rec = tile + b * record;
      const int8_t* xq = xr.codes + b * 32;
      __m256i isum;
      if constexpr (T == QuantType::Q8_0) {
        // |w|·sign(x, w): u8 × s8 pairs ≤ 2·128·127, inside i16; widened per vector.
        isum = _mm256_setzero_si256();
        for (int j = 0; j < 8; ++j) {
          const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rec + 64 * j + 32 * h));
          const __m256i x = _mm256_sign_epi8(_mm256_set1_epi32(load_i32(xq + 4 * j)), w);
          isum = _mm256_add_epi32(isum, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(w), x), ones));
        }
      } else {
        // Codes ≤ 15: a pair ≤ 2·15·127 = 3810 in i16, eight pairs summed ≤ 30480: no overflow.
        __m256i s16 = _mm256_setzero_si256();
        for (int k = 0; k < 4; ++k) {
          const __m256i p = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rec + 64 * k + 32 * h));
          s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(_mm256_and_si256(p, low),
                                                           _mm256_set1_epi32(load_i32(xq + 4 * k))));
          s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(p, 4), low),
                                                           _mm256_set1_epi32(load_i32(xq + 16 + 4 * k))));
        }
        isum = _mm256_madd_epi16(s16, ones);
      }
      const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rec + cb + 16 * h)));
      acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(d, _mm256_set1_ps(xr.scale[b])), acc);
      macc = offset_avx2<T>(rec, h, d, T == QuantType::Q8_0 ? 0.f : xr.sum[b], macc);
    }
    _mm256_storeu_ps(out + 8 * h, _mm256_add_ps(acc, macc));
  }
}

template <bool kSigned, int kByte>
SDNC_TARGET_AVX2 inline __m256 lane_byte_avx2(__m256i v) {
  __m256i i;
  if constexpr (kSigned) i = _mm256_srai_epi32(_mm256_slli_epi32(v, 24 - 8 * kByte), 24);
  else if constexpr (kByte == 3) i = _mm256_srli_epi32(v, 24);
  else i = _mm256_and_si256(_mm256_srli_epi32(v, 8 * kByte), _mm256_set1_epi32(0xff));
  return _mm256_cvtepi32_ps(i);
}

template <bool kSigned>
SDNC_TARGET_AVX2 inline void fma4_avx2(__m256i v, const float* x, __m256& a0, __m256& a1, __m256& a2, __m256& a3) {
  a0 = _mm256_fmadd_ps(lane_byte_avx2<kSigned, 0>(v), _mm256_set1_ps(x[0]), a0);
  a1 = _mm256_fmadd_ps(lane_byte_avx2<kSigned, 1>(v), _mm256_set1_ps(x[1]), a1);
  a2 = _mm256_fmadd_ps(lane_byte_avx2<kSigned, 2>(v), _mm256_set1_ps(x[2]), a2);
  a3 = _mm256_fmadd_ps(lane_byte_avx2<kSigned, 3>(v), _mm256_set1_ps(x[3]), a3);
}

template <QuantType T>
SDNC_TARGET_AVX2 void tile_f32_avx2(const uint8_t* tile, int64_t blocks, const XRow& xr, float* out) {
  constexpr int64_t cb = kCodeBytes<T>, record = kRecordBytes<T>;
  const __m256i low = _mm256_set1_epi8(15);
  for (int h = 0; h < 2; ++h) {
    __m256 acc = _mm256_setzero_ps(), macc = _mm256_setzero_ps();
    for (int64_t b = 0; b < blocks; ++b) {
      const uint8_t* rec = tile + b * record;
      const float* xb = xr.x + b * 32;
      __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      if constexpr (T == QuantType::Q8_0) {
        for (int j = 0; j < 8; ++j)
          fma4_avx2<true>(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(rec + 64 * j + 32 * h)), xb + 4 * j,
                          a0, a1, a2, a3);
      } else {
        for (int k = 0; k < 4; ++k) {
          const __m256i p = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rec + 64 * k + 32 * h));
          fma4_avx2<false>(_mm256_and_si256(p, low), xb + 4 * k, a0, a1, a2, a3);
          fma4_avx2<false>(_mm256_and_si256(_mm256_srli_epi16(p, 4), low), xb + 16 + 4 * k, a0, a1, a2, a3);
        }
      }
      const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rec + cb + 16 * h)));
      acc = _mm256_fmadd_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)), d, acc);
      macc = offset_avx2<T>(rec, h, d, T == QuantType::Q8_0 ? 0.f : xr.sum[b], macc);
    }
    _mm256_storeu_ps(out + 8 * h, _mm256_add_ps(acc, macc));
  }
}

#endif  // SDNC_PACKED_X86

using TileKernel = void (*)(const uint8_t* tile, int64_t blocks, const XRow& xr, float* out);

template <QuantType T, bool kInt8>
void tile_portable_t(const uint8_t* tile, int64_t blocks, const XRow& xr, float* out) {
  constexpr int64_t cb = kCodeBytes<T>, record = kRecordBytes<T>;
  tile_portable<kInt8>(T, tile, blocks, record, cb, xr, out);
}

template <QuantType T>
TileKernel pick(QuantPath path, bool int8) {
  switch (resolve(path)) {
#if defined(SDNC_PACKED_X86)
    case QuantPath::Avx512: return int8 ? tile_q8_avx512<T> : tile_f32_avx512<T>;
    case QuantPath::Avx2: return int8 ? tile_q8_avx2<T> : tile_f32_avx2<T>;
#endif
    default: return int8 ? tile_portable_t<T, true> : tile_portable_t<T, false>;
  }
}

TileKernel pick(QuantType type, QuantPath path, bool int8) {
  switch (type) {
    case QuantType::Q4_0: return pick<QuantType::Q4_0>(path, int8);
    case QuantType::Q4_1: return pick<QuantType::Q4_1>(path, int8);
    case QuantType::Q8_0: return pick<QuantType::Q8_0>(path, int8);
  }
  return nullptr;
}

// The tiles [o0, o1) touches, for each x row: a tile's 16 sums, of which [o0, o1) are written.
template <class RowOf>
void run_tiles(const PackedQuantWeight& w, TileKernel kernel, int64_t M, RowOf row_of, float* y, int64_t ldy,
               int64_t o0, int64_t o1, bool accumulate) {
  SDNC_CHECK(o0 >= 0 && o0 <= o1 && o1 <= w.rows, "quant_gemv_packed", "columns [{}, {}) outside [0, {})", o0, o1,
             w.rows);
  const int64_t blocks = w.blocks(), tile_bytes = blocks * w.record_bytes();
  alignas(64) float out[kTile];
  for (int64_t t = o0 / kTile; t * kTile < o1; ++t) {
    const uint8_t* tile = w.data() + t * tile_bytes;
    const int64_t r0 = std::max(o0, t * kTile), r1 = std::min(o1, (t + 1) * kTile);
    for (int64_t m = 0; m < M; ++m) {
      const XRow xr = row_of(m);
      kernel(tile, blocks, xr, out);
      float* ym = y + m * ldy;
      for (int64_t o = r0; o < r1; ++o) ym[o] = accumulate ? ym[o] + out[o - t * kTile] : out[o - t * kTile];
    }
  }
}

}  // namespace

PackedQuantWeight pack_quant_weight(QuantType type, int64_t N, int64_t K, const uint8_t* W) {
  SDNC_CHECK(K % 32 == 0 && K > 0 && N > 0, "quant_gemv_packed", "K = {}, N = {}: K must be a positive multiple of 32",
             K, N);
  PackedQuantWeight p;
  p.type = type, p.rows = N, p.cols = K;
  const int64_t blocks = K / 32, bb = quant_block_bytes(type), row_bytes = blocks * bb, record = p.record_bytes(),
                cb = p.code_bytes();
  // From huge pages where the system gives them: a decoding step streams every tile from memory.
  p.bytes = weight_arena_alloc(static_cast<size_t>(p.tiles() * blocks * record));  // zeroed
  uint8_t* dst = static_cast<uint8_t*>(p.bytes.get());
  for (int64_t o = 0; o < N; ++o) {
    const int64_t t = o / kTile, r = o % kTile;
    for (int64_t b = 0; b < blocks; ++b) {
      const uint8_t* blk = W + o * row_bytes + b * bb;
      uint8_t* rec = dst + (t * blocks + b) * record;
      std::memcpy(rec + cb + 2 * r, blk, 2);  // d
      if (type == QuantType::Q8_0) {
        for (int e = 0; e < 32; ++e) rec[(e / 4) * 64 + r * 4 + e % 4] = blk[2 + e];
        continue;
      }
      if (type == QuantType::Q4_1) std::memcpy(rec + cb + 32 + 2 * r, blk + 2, 2);  // m
      const uint8_t* qs = blk + (type == QuantType::Q4_1 ? 4 : 2);
      // code e < 16 is qs[e]'s low nibble, code 16 + e its high one: both go to byte e of P.
      for (int e = 0; e < 16; ++e) rec[(e / 4) * 64 + r * 4 + e % 4] = qs[e];
    }
  }
  return p;
}

void packed_rows_times_weight_t(const PackedQuantWeight& w, int64_t M, const float* x, int64_t ldx, float* y,
                                int64_t ldy, int64_t o0, int64_t o1, bool accumulate, QuantPath path) {
  const int64_t blocks = w.blocks();
  // Σx per block and row (Q4_1's offset, Q4_0's −8); on the stack for a decoding step.
  float sum_stack[1024];
  std::vector<float> sum_heap;
  float* sums = sum_stack;
  if (M * blocks > 1024) sum_heap.resize(static_cast<size_t>(M * blocks)), sums = sum_heap.data();
  for (int64_t m = 0; m < M; ++m)
    for (int64_t b = 0; b < blocks; ++b) {
      const float* xb = x + m * ldx + b * 32;
      float s = 0.f;
#pragma omp simd reduction(+ : s)
      for (int j = 0; j < 32; ++j) s += xb[j];
      sums[m * blocks + b] = s;
    }
  run_tiles(
      w, pick(w.type, path, false), M,
      [&](int64_t m) {
        XRow r;
        r.x = x + m * ldx, r.sum = sums + m * blocks;
        return r;
      },
      y, ldy, o0, o1, accumulate);
}

void packed_rows_times_weight_t_q8(const PackedQuantWeight& w, int64_t M, const int8_t* codes, const float* scale,
                                   const float* sum, float* y, int64_t ldy, int64_t o0, int64_t o1, bool accumulate,
                                   QuantPath path) {
  const int64_t K = w.cols, blocks = w.blocks();
  // Σ codes per block and row (the AVX-512 Q8_0 kernel's bias correction).
  int32_t cs_stack[1024];
  std::vector<int32_t> cs_heap;
  int32_t* code_sums = cs_stack;
  if (w.type == QuantType::Q8_0) {
    if (M * blocks > 1024) cs_heap.resize(static_cast<size_t>(M * blocks)), code_sums = cs_heap.data();
    for (int64_t i = 0; i < M * blocks; ++i) {
      int32_t s = 0;
      for (int j = 0; j < 32; ++j) s += codes[i * 32 + j];
      code_sums[i] = s;
    }
  }
  run_tiles(
      w, pick(w.type, path, true), M,
      [&](int64_t m) {
        XRow r;
        r.codes = codes + m * K, r.scale = scale + m * blocks, r.sum = sum + m * blocks;
        r.code_sum = code_sums + m * blocks;
        return r;
      },
      y, ldy, o0, o1, accumulate);
}

const char* packed_gemv_kernel(QuantPath path) {
  switch (resolve(path)) {
    case QuantPath::Avx512: return "avx512-vnni";
    case QuantPath::Avx2: return "avx2";
    default: return "portable";
  }
}

}  // namespace sdnc::cpu
