// backend/cpu/quant_gemv.cpp — quantised GEMV: per block an F32 dot of x with the integer codes,
// then one scale (and for Q4_1 one offset times the block's Σx).
#include "sdnc/backend/cpu/quant_gemv.h"

#include <cstring>
#include <vector>

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

inline uint16_t load_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

// Σ_j x[j]·q[j] of one block; q are the codes (Q4: 0..15 before any offset; Q8: signed).
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

}  // namespace

void quant_rows_times_weight_t(QuantType type, int64_t M, int64_t K, const float* x, int64_t ldx,
                               const uint8_t* W, float* y, int64_t ldy, int64_t o0, int64_t o1,
                               bool accumulate) {
  SDNC_CHECK(K % 32 == 0, "quant_gemv", "K = {} is not a multiple of the 32-element block", K);
  const int64_t blocks = K / 32, bb = quant_block_bytes(type), row_bytes = blocks * bb;
  // Σx per block and row (Q4_1's offset m, Q4_0's −8).
  std::vector<float> xsum;
  if (type != QuantType::Q8_0) {
    xsum.resize(static_cast<size_t>(M * blocks));
    for (int64_t m = 0; m < M; ++m)
      for (int64_t b = 0; b < blocks; ++b) {
        float s = 0.f;
        for (int j = 0; j < 32; ++j) s += x[m * ldx + b * 32 + j];
        xsum[m * blocks + b] = s;
      }
  }
  float acc[64];
  const int64_t rows_per_pass = 64;
  for (int64_t m0 = 0; m0 < M; m0 += rows_per_pass) {
    const int64_t mm = std::min<int64_t>(rows_per_pass, M - m0);
    for (int64_t o = o0; o < o1; ++o) {
      const uint8_t* row = W + o * row_bytes;
      for (int64_t m = 0; m < mm; ++m) acc[m] = 0.f;
      for (int64_t b = 0; b < blocks; ++b) {
        const uint8_t* blk = row + b * bb;
        const float d = half_to_float(load_u16(blk));
        for (int64_t m = 0; m < mm; ++m) {
          const float* xb = x + (m0 + m) * ldx + b * 32;
          switch (type) {
            case QuantType::Q4_0:
              acc[m] += d * (dot_q4(xb, blk + 2) - 8.f * xsum[(m0 + m) * blocks + b]);
              break;
            case QuantType::Q4_1:
              acc[m] += d * dot_q4(xb, blk + 4) +
                        half_to_float(load_u16(blk + 2)) * xsum[(m0 + m) * blocks + b];
              break;
            case QuantType::Q8_0:
              acc[m] += d * dot_q8(xb, reinterpret_cast<const int8_t*>(blk + 2));
              break;
          }
        }
      }
      for (int64_t m = 0; m < mm; ++m) {
        float& out = y[(m0 + m) * ldy + o];
        out = accumulate ? out + acc[m] : acc[m];
      }
    }
  }
}

}  // namespace sdnc::cpu
