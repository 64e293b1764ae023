// Quantised GEMV (backend/cpu/quant_gemv.h) against dequantise-then-dot: the weights are
// dequantised by the GGUF reader's dequantize_row (checked bit for bit against the PyPI gguf
// package by CTest real_gguf) and multiplied in double precision.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "sdnc/backend/cpu/quant_gemv.h"
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
void check_path(cpu::QuantType, int64_t, int64_t, int64_t, uint32_t, cpu::QuantPath);

void check_type(cpu::QuantType type, int64_t M, int64_t K, int64_t N, uint32_t seed) {
  for (cpu::QuantPath path : {cpu::QuantPath::Avx512, cpu::QuantPath::Avx2, cpu::QuantPath::Portable}) {
    SCOPED_TRACE(cpu::quant_gemv_kernel(path));
    check_path(type, M, K, N, seed, path);
  }
}

void check_path(cpu::QuantType type, int64_t M, int64_t K, int64_t N, uint32_t seed, cpu::QuantPath path) {
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
  // Two column ranges (as two threads would split them), then accumulate onto ones.
  std::vector<float> y(static_cast<size_t>(M * N), 1.f);
  cpu::quant_rows_times_weight_t(type, M, K, x.data(), K, W.data(), y.data(), N, 0, N / 2, false, path);
  cpu::quant_rows_times_weight_t(type, M, K, x.data(), K, W.data(), y.data(), N, N / 2, N, false, path);
  std::vector<float> y2(static_cast<size_t>(M * N), 1.f);
  cpu::quant_rows_times_weight_t(type, M, K, x.data(), K, W.data(), y2.data(), N, 0, N, true, path);
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
  std::printf("quant gemv %s type %d M %lld K %lld N %lld: max error / Σ|x·w| = %.2e\n",
              cpu::quant_gemv_kernel(path), static_cast<int>(type),
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
}
