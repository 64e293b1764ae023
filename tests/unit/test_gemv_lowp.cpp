// The packed weight formats of the decode step (backend/cpu/gemv_lowp.h): BF16 is F32 rounded
// to the nearest 8-bit mantissa (ties to even), found here by comparing the two neighbours in
// double; int8 keeps every weight within half a step of its column's scale, scale = max|w|/127;
// and one row times a packed matrix equals the same product over the values the copy stands
// for, summed in double, in both layouts, every epilogue, any column range.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>
#include <vector>

#include "sdnc/backend/cpu/gemv_lowp.h"

namespace sdnc {
namespace {

std::vector<float> random_weights(int64_t count, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> w(count);
  for (float& x : w) x = normal(rng);
  return w;
}

// The nearest BF16 (ties to even), from the two candidates around f: f's top 16 bits and the next.
float nearest_bf16(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f) & 0xffff0000u;
  const float lo = std::bit_cast<float>(u), hi = std::bit_cast<float>(u + 0x10000u);
  const double dlo = std::fabs(double(f) - lo), dhi = std::fabs(double(hi) - f);
  if (dlo != dhi) return dlo < dhi ? lo : hi;
  return ((u >> 16) & 1) ? hi : lo;
}

TEST(GemvLowp, Bf16IsTheNearestWithTiesToEven) {
  std::vector<float> w = random_weights(4096, 1);
  w.push_back(1.0f + 1.0f / 256);  // exactly halfway between 1 and 1 + 2^-7: even is 1
  w.push_back(1.0f + 3.0f / 256);  // halfway between 1 + 2^-7 and 1 + 2^-6: even is the larger
  w.push_back(0.0f), w.push_back(-0.0f), w.push_back(3.0e38f);
  cpu::PackedMatrix p = cpu::pack_matrix(w.data(), 1, static_cast<int64_t>(w.size()), true, cpu::WeightFormat::BF16);
  for (size_t i = 0; i < w.size(); ++i) ASSERT_EQ(cpu::unpacked(p, 0, i), nearest_bf16(w[i])) << "w = " << w[i];
  EXPECT_EQ(cpu::unpacked(p, 0, 4096), 1.0f);
  EXPECT_EQ(cpu::unpacked(p, 0, 4097), 1.0f + 4.0f / 256);
}

TEST(GemvLowp, Int8KeepsEachWeightWithinHalfAStepOfItsColumnScale) {
  const int64_t K = 37, N = 21;
  for (bool conv1d : {true, false}) {
    std::vector<float> w = random_weights(K * N, 2);
    for (int64_t i = 0; i < K; ++i) w[conv1d ? i * N + 5 : 5 * K + i] = 0.0f;  // an all-zero column
    cpu::PackedMatrix p = cpu::pack_matrix(w.data(), K, N, conv1d, cpu::WeightFormat::Int8);
    for (int64_t o = 0; o < N; ++o) {
      float mx = 0;
      for (int64_t i = 0; i < K; ++i) mx = std::max(mx, std::fabs(w[conv1d ? i * N + o : o * K + i]));
      const float step = mx > 0 ? mx / 127.0f : 1.0f;
      EXPECT_FLOAT_EQ(p.scale[o], step);
      for (int64_t i = 0; i < K; ++i)
        EXPECT_LE(std::fabs(cpu::unpacked(p, i, o) - w[conv1d ? i * N + o : o * K + i]), 0.5001 * step);
    }
  }
}

TEST(GemvLowp, RowTimesPackedEqualsTheProductOfTheValuesItStandsFor) {
  const int64_t K = 70, N = 300;  // K not a multiple of 4; N past one 256-column block
  std::vector<float> x = random_weights(K, 3), bias = random_weights(N, 4, 0.1f);
  for (auto format : {cpu::WeightFormat::BF16, cpu::WeightFormat::Int8})
    for (bool conv1d : {true, false})
      for (auto e : {cpu::RowEpilogue::Store, cpu::RowEpilogue::Accumulate, cpu::RowEpilogue::Relu,
                     cpu::RowEpilogue::GeluTanh}) {
        SCOPED_TRACE(testing::Message() << cpu::weight_format_name(format) << (conv1d ? " conv1d" : " linear")
                                        << " epilogue " << int(e));
        std::vector<float> w = random_weights(K * N, 5, 0.2f);
        cpu::PackedMatrix p = cpu::pack_matrix(w.data(), K, N, conv1d, format);
        const int64_t o0 = 16, o1 = 290;
        std::vector<float> y(N, 0.25f);
        cpu::row_times_packed(x.data(), p, bias.data(), y.data(), o0, o1, e);
        for (int64_t o = 0; o < N; ++o) {
          if (o < o0 || o >= o1) {
            ASSERT_EQ(y[o], 0.25f) << "column " << o << " outside the range was written";
            continue;
          }
          double s = bias[o];
          for (int64_t i = 0; i < K; ++i) s += double(x[i]) * cpu::unpacked(p, i, o);
          double want = s;
          if (e == cpu::RowEpilogue::Accumulate) want = 0.25 + s;
          if (e == cpu::RowEpilogue::Relu) want = std::max(s, 0.0);
          if (e == cpu::RowEpilogue::GeluTanh) want = 0.5 * s * (1 + std::tanh(0.7978845608 * (s + 0.044715 * s * s * s)));
          ASSERT_NEAR(y[o], want, 2e-5 * (1 + std::fabs(want))) << "column " << o;
        }
      }
}

}  // namespace
}  // namespace sdnc
