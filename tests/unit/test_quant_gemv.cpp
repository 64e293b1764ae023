// Quantised GEMV (backend/cpu/quant_gemv.h, row by row, and quant_gemv_packed.h, 16-row tiles
// repacked at load) against dequantise-then-dot: the weights are dequantised by the GGUF
// reader's dequantize_row (checked bit for bit against the PyPI gguf package by CTest
// real_gguf) and multiplied in double precision. Every kernel of both runs where the CPU has it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "sdnc/backend/cpu/quant_gemv.h"
#include "sdnc/backend/cpu/quant_gemv_packed.h"
#include "sdnc/io/gguf.h"

using namespace sdnc;

namespace {

gguf::TensorType gguf_type(cpu::QuantType t) {
  switch (t) {
    case cpu::QuantType::Q4_0: return gguf::TensorType::Q4_0;
    case cpu::QuantType::Q4_1: return gguf::TensorType::Q4_1;
    case cpu::QuantType::Q8_0: return gguf::TensorType::Q8_0;
  }
  return gguf::TensorType::F32;
}

uint16_t random_half(std::mt19937& rng, float lo, float hi) {
  // A normal fp16 in [lo, hi) (either sign): exponent and mantissa bits at random.
  std::uniform_real_distribution<float> u(lo, hi);
  float v = u(rng) * (rng() % 2 ? 1.f : -1.f);
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  const uint32_t sign = (bits >> 16) & 0x8000, exp = ((bits >> 23) & 0xff) - 112, mant = (bits >> 13) & 0x3ff;
  return static_cast<uint16_t>(sign | (exp << 10) | mant);
}

// Every kernel this build has (AVX-512, AVX2, portable) against double precision: the
// bound 4e-6 of Σ|x·w| is ~30 F32 roundings of the largest partial sum (K ≤ 1536 summed in
// blocks of 32, then across blocks), far below what a wrong code, scale or offset would give.
void check_path(cpu::QuantType, int64_t, int64_t, int64_t, uint32_t, cpu::QuantPath, bool);

constexpr cpu::QuantPath kPaths[] = {cpu::QuantPath::Avx512, cpu::QuantPath::Avx2, cpu::QuantPath::Portable};
const char* kernel_name(cpu::QuantPath path, bool packed) {
  return packed ? cpu::packed_gemv_kernel(path) : cpu::quant_gemv_kernel(path);
}

void check_type(cpu::QuantType type, int64_t M, int64_t K, int64_t N, uint32_t seed) {
  for (bool packed : {false, true})
    for (cpu::QuantPath path : kPaths) {
      SCOPED_TRACE(std::string(packed ? "packed " : "rows ") + kernel_name(path, packed));
      check_path(type, M, K, N, seed, path, packed);
    }
}

void check_path(cpu::QuantType type, int64_t M, int64_t K, int64_t N, uint32_t seed, cpu::QuantPath path,
                bool packed) {
  std::mt19937 rng(seed);
  const int64_t bb = cpu::quant_block_bytes(type), row_bytes = K / 32 * bb;
  std::vector<uint8_t> W(static_cast<size_t>(N * row_bytes));
  for (int64_t o = 0; o < N; ++o)
    for (int64_t b = 0; b < K / 32; ++b) {
      uint8_t* blk = W.data() + o * row_bytes + b * bb;
      for (int64_t i = 0; i < bb; ++i) blk[i] = static_cast<uint8_t>(rng());
      const uint16_t d = random_half(rng, 0.001f, 0.05f);
      std::memcpy(blk, &d, 2);
      if (type == cpu::QuantType::Q4_1) {
        const uint16_t m = random_half(rng, 0.01f, 0.4f);
        std::memcpy(blk + 2, &m, 2);
      }
    }
  std::normal_distribution<float> nd(0.f, 1.f);
  std::vector<float> x(static_cast<size_t>(M * K));
  for (float& v : x) v = nd(rng);
  std::vector<float> dense(static_cast<size_t>(N * K));
  for (int64_t o = 0; o < N; ++o)
    gguf::dequantize_row(gguf_type(type), W.data() + o * row_bytes, dense.data() + o * K, K);
  // Two column ranges (as two threads would split them; N/2 cuts a 16-row tile), then
  // accumulate onto ones.
  const cpu::PackedQuantWeight P = cpu::pack_quant_weight(type, N, K, W.data());
  auto times = [&](float* y, int64_t o0, int64_t o1, bool acc) {
    if (packed) cpu::packed_rows_times_weight_t(P, M, x.data(), K, y, N, o0, o1, acc, path);
    else cpu::quant_rows_times_weight_t(type, M, K, x.data(), K, W.data(), y, N, o0, o1, acc, path);
  };
  std::vector<float> y(static_cast<size_t>(M * N), 1.f);
  times(y.data(), 0, N / 2, false);
  times(y.data(), N / 2, N, false);
  std::vector<float> y2(static_cast<size_t>(M * N), 1.f);
  times(y2.data(), 0, N, true);
  double worst = 0;
  for (int64_t m = 0; m < M; ++m)
    for (int64_t o = 0; o < N; ++o) {
      double ref = 0, mag = 0;
      for (int64_t i = 0; i < K; ++i) {
        ref += static_cast<double>(x[m * K + i]) * dense[o * K + i];
        mag += std::fabs(static_cast<double>(x[m * K + i]) * dense[o * K + i]);
      }
      const double err = std::fabs(y[m * N + o] - ref) / (mag + 1e-30);
      worst = std::max(worst, err);
      ASSERT_LE(err, 4e-6) << "m " << m << " o " << o << " got " << y[m * N + o] << " ref " << ref;
      ASSERT_NEAR(y2[m * N + o] - 1.0, y[m * N + o], 1e-5 * (mag + 1));
    }
  std::printf("quant gemv %s %s type %d M %lld K %lld N %lld: max error / Σ|x·w| = %.2e\n",
              packed ? "packed" : "rows", kernel_name(path, packed), static_cast<int>(type),
              static_cast<long long>(M), static_cast<long long>(K), static_cast<long long>(N), worst);
}

}  // namespace

TEST(QuantGemv, HalfToFloatMatchesTheReader) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float a = cpu::half_to_float(static_cast<uint16_t>(h)), b = gguf::fp16_to_float(static_cast<uint16_t>(h));
    if (std::isnan(b)) { ASSERT_TRUE(std::isnan(a)) << h; continue; }
    ASSERT_EQ(std::memcmp(&a, &b, 4), 0) << "half 0x" << std::hex << h << ": " << a << " vs " << b;
  }
}

TEST(QuantGemv, Q4_1MatchesDequantisedDot) {
  check_type(cpu::QuantType::Q4_1, 1, 576, 96, 1);
  check_type(cpu::QuantType::Q4_1, 3, 1536, 40, 2);
  check_type(cpu::QuantType::Q4_1, 70, 64, 9, 3);    // many rows
  check_type(cpu::QuantType::Q4_1, 40, 1024, 5, 7);  // Σx per block beyond the stack buffer
}

TEST(QuantGemv, Q8_0MatchesDequantisedDot) {
  check_type(cpu::QuantType::Q8_0, 1, 576, 96, 4);
  check_type(cpu::QuantType::Q8_0, 2, 96, 33, 5);
}

TEST(QuantGemv, Q4_0MatchesDequantisedDot) {
  check_type(cpu::QuantType::Q4_0, 2, 256, 17, 6);
  check_type(cpu::QuantType::Q4_0, 1, 1536, 33, 8);
}

TEST(QuantGemv, RefusesPartialBlocks) {
  std::vector<float> x(40), y(1);
  std::vector<uint8_t> W(40);
  EXPECT_THROW(cpu::quant_rows_times_weight_t(cpu::QuantType::Q8_0, 1, 40, x.data(), 40, W.data(), y.data(), 1, 0, 1, false),
               Error);
  EXPECT_THROW(cpu::pack_quant_weight(cpu::QuantType::Q8_0, 1, 40, W.data()), Error);
  std::vector<uint8_t> one_block(34, 0);
  const cpu::PackedQuantWeight P = cpu::pack_quant_weight(cpu::QuantType::Q8_0, 1, 32, one_block.data());
  EXPECT_THROW(cpu::packed_rows_times_weight_t(P, 1, x.data(), 32, y.data(), 1, 0, 2, false), Error);  // o1 > N
}

namespace {

// 8-bit activations: against the double-precision dot with the F32 x, the error is bounded by
// x's rounding, Σ_blocks (max|x_b| / 254)·Σ_j |w_j| (plus F32 rounding); and on an x that
// 8 bits represent exactly (x = d·k, k integer, max |k| = 127) it is the F32 kernel's.
void check_q8(cpu::QuantType type, int64_t M, int64_t K, int64_t N, uint32_t seed, bool exact_x) {
  std::mt19937 rng(seed);
  const int64_t bb = cpu::quant_block_bytes(type), row_bytes = K / 32 * bb, blocks = K / 32;
  std::vector<uint8_t> W(static_cast<size_t>(N * row_bytes));
  for (auto& v : W) v = static_cast<uint8_t>(rng());
  for (int64_t blk = 0; blk < N * blocks; ++blk) {
    const uint16_t d = random_half(rng, 0.001f, 0.05f), m = random_half(rng, 0.01f, 0.4f);
    std::memcpy(W.data() + blk * bb, &d, 2);
    if (type == cpu::QuantType::Q4_1) std::memcpy(W.data() + blk * bb + 2, &m, 2);
  }
  std::normal_distribution<float> nd(0.f, 1.f);
  std::vector<float> x(static_cast<size_t>(M * K));
  for (int64_t i = 0; i < M * K; ++i) {
    if (!exact_x) { x[i] = nd(rng); continue; }
    const int64_t j = i % 32;  // k in [−127, 127], ±127 present in every block; d = 2^−5
    const int k = j == 0 ? 127 : j == 1 ? -127 : static_cast<int>(rng() % 255) - 127;
    x[i] = static_cast<float>(k) / 32.f;
  }
  std::vector<float> dense(static_cast<size_t>(N * K));
  for (int64_t o = 0; o < N; ++o)
    gguf::dequantize_row(gguf_type(type), W.data() + o * row_bytes, dense.data() + o * K, K);
  std::vector<int8_t> codes(static_cast<size_t>(M * K));
  std::vector<float> scale(static_cast<size_t>(M * blocks)), sum(static_cast<size_t>(M * blocks));
  cpu::quantize_rows_q8(M, K, x.data(), K, codes.data(), scale.data(), sum.data());
  const cpu::PackedQuantWeight P = cpu::pack_quant_weight(type, N, K, W.data());
  for (bool packed : {false, true})
  for (cpu::QuantPath path : kPaths) {
    SCOPED_TRACE(std::string(packed ? "packed " : "rows ") + kernel_name(path, packed));
    std::vector<float> y(static_cast<size_t>(M * N), 0.f), y_f32(static_cast<size_t>(M * N), 0.f);
    for (auto [o0, o1] : {std::pair<int64_t, int64_t>{0, N / 3}, {N / 3, N}}) {
      if (packed)
        cpu::packed_rows_times_weight_t_q8(P, M, codes.data(), scale.data(), sum.data(), y.data(), N, o0, o1, false,
                                           path);
      else
        cpu::quant_rows_times_weight_t_q8(type, M, K, codes.data(), scale.data(), sum.data(), W.data(), y.data(), N,
                                          o0, o1, false, path);
    }
    cpu::quant_rows_times_weight_t(type, M, K, x.data(), K, W.data(), y_f32.data(), N, 0, N, false, path);
    double worst = 0;
    for (int64_t m = 0; m < M; ++m)
      for (int64_t o = 0; o < N; ++o) {
        double ref = 0, mag = 0, bound = 0;
        for (int64_t b = 0; b < blocks; ++b) {
          double amax = 0, wabs = 0;
          for (int64_t j = b * 32; j < b * 32 + 32; ++j) {
            const double p = static_cast<double>(x[m * K + j]) * dense[o * K + j];
            ref += p, mag += std::fabs(p);
            amax = std::max(amax, std::fabs(static_cast<double>(x[m * K + j])));
            wabs += std::fabs(static_cast<double>(dense[o * K + j]));
          }
          bound += amax / 254.0 * wabs;
        }
        const double err = std::fabs(y[m * N + o] - ref);
        worst = std::max(worst, err / (bound + 1e-30));
        ASSERT_LE(err, 1.0001 * bound + 4e-6 * mag) << "m " << m << " o " << o;
        if (exact_x) ASSERT_NEAR(y[m * N + o], y_f32[m * N + o], 4e-6 * mag) << "m " << m << " o " << o;
      }
    std::printf("quant gemv q8 %s %s type %d M %lld K %lld: max error / rounding bound = %.3f\n",
                packed ? "packed" : "rows", kernel_name(path, packed), static_cast<int>(type), static_cast<long long>(M),
                static_cast<long long>(K), worst);
  }
}

}  // namespace

TEST(QuantGemv, Int8ActivationsWithinTheirRoundingBound) {
  for (cpu::QuantType t : {cpu::QuantType::Q4_0, cpu::QuantType::Q4_1, cpu::QuantType::Q8_0}) {
    check_q8(t, 1, 576, 48, 11, false);
    check_q8(t, 3, 1536, 20, 12, false);
  }
  check_q8(cpu::QuantType::Q8_0, 40, 1024, 5, 14, false);  // Σ codes per block beyond the stack buffer
}

TEST(QuantGemv, Int8ActivationsExactWhenXIsRepresentable) {
  for (cpu::QuantType t : {cpu::QuantType::Q4_0, cpu::QuantType::Q4_1, cpu::QuantType::Q8_0})
    check_q8(t, 2, 576, 24, 13, true);
}

TEST(QuantGemv, QuantizesActivationsAsDefined) {
  // Direct computation: block 0 has max |x| = 31.75 → d = 0.25 (exact), so x/d is exact:
  // 5 → 20, 0.125 → 0.5 → 0 and 0.375 → 1.5 → 2 (ties to even), −0.125 → −0.5 → 0, −31.75 → −127;
  // block 1 is all zero → d = 0, codes 0.
  std::vector<float> x(64, 0.f);
  x[0] = 31.75f, x[1] = 5.f, x[2] = 0.125f, x[3] = 0.375f, x[4] = -0.125f, x[5] = -31.75f;
  std::vector<int8_t> q(64);
  float d[2], s[2];
  cpu::quantize_rows_q8(1, 64, x.data(), 64, q.data(), d, s);
  EXPECT_EQ(d[0], 0.25f);
  const int expected[6] = {127, 20, 0, 2, 0, -127};
  for (int j = 0; j < 6; ++j) EXPECT_EQ(q[j], expected[j]) << j;
  EXPECT_EQ(s[0], 5.375f);
  EXPECT_EQ(d[1], 0.f);
  for (int j = 32; j < 64; ++j) EXPECT_EQ(q[j], 0);
}
