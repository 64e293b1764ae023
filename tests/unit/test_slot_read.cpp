// The read kernel of the decode op (backend/cpu/slot_read.h) against the read computed
// directly in double precision from its definition (softmax of scaled dot products, the
// weighted sum of values), for multi-head (S = R) and grouped-query (S < R) memories and slot
// counts around the 64-slot chunk (the chunks' softmaxes combined); and the two phases run
// block by block in any order (as helper threads take them) equal the one-thread slot_read
// bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "sdnc/backend/cpu/slot_read.h"

namespace sdnc {
namespace {

struct Memory {
  cpu::SlotReadShape shape;
  int64_t slots;
  std::vector<float> q, keys, values;
};

Memory random_memory(int64_t R, int64_t S, int64_t W, int64_t slots, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Memory m{{R, S, W, static_cast<float>(1.0 / std::sqrt(double(W)))}, slots, {}, {}, {}};
  m.q.resize(R * W), m.keys.resize(slots * S * W), m.values.resize(slots * S * W);
  for (auto* v : {&m.q, &m.keys, &m.values})
    for (float& x : *v) x = normal(rng);
  return m;
}

// reads [R·W] by the definition, in double: r_h = Σ_j softmax_j(scale q_h·K_j,h') V_j,h', h' = h·S/R.
std::vector<double> direct_read(const Memory& m) {
  const int64_t R = m.shape.R, S = m.shape.S, W = m.shape.W;
  std::vector<double> reads(R * W, 0.0);
  for (int64_t h = 0; h < R; ++h) {
    const int64_t slice = h * S / R;
    std::vector<double> e(m.slots);
    for (int64_t j = 0; j < m.slots; ++j) {
      double dot = 0;
      for (int64_t c = 0; c < W; ++c) dot += double(m.q[h * W + c]) * m.keys[(j * S + slice) * W + c];
      e[j] = m.shape.scale * dot;
    }
    const double mx = *std::max_element(e.begin(), e.end());
    double sum = 0;
    for (double& x : e) sum += (x = std::exp(x - mx));
    for (int64_t j = 0; j < m.slots; ++j)
      for (int64_t c = 0; c < W; ++c) reads[h * W + c] += e[j] / sum * m.values[(j * S + slice) * W + c];
  }
  return reads;
}

std::vector<float> slot_read(const Memory& m) {
  const int64_t R = m.shape.R, RW = R * m.shape.W, chunks = cpu::slot_chunks(m.slots);
  std::vector<float> e(R * cpu::kSlotChunk), partial(chunks * RW), stats(chunks * 2 * R), reads(RW);
  cpu::slot_read(m.shape, m.q.data(), m.keys.data(), m.values.data(), m.slots, e.data(), partial.data(), stats.data(),
                 reads.data());
  return reads;
}

TEST(SlotRead, EqualsTheDirectReadInDouble) {
  struct Case {
    int64_t R, S, W, slots;
  };
  for (Case c : {Case{4, 4, 64, 1}, Case{4, 4, 64, 63}, Case{4, 4, 64, 64}, Case{4, 4, 64, 65}, Case{4, 4, 64, 300},
                 Case{6, 2, 8, 130}, Case{3, 1, 5, 70}, Case{2, 2, 3, 129}}) {
    SCOPED_TRACE(testing::Message() << "R " << c.R << " S " << c.S << " W " << c.W << " slots " << c.slots);
    Memory m = random_memory(c.R, c.S, c.W, c.slots, 7);
    std::vector<float> got = slot_read(m);
    std::vector<double> want = direct_read(m);
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(got[i] - want[i]));
    EXPECT_LT(worst, 2e-6);  // F32 sums of ≤ 300 terms of size ≤ ~3
  }
}

TEST(SlotRead, PhasesInAnyBlockOrderEqualTheOneThreadRead) {
  Memory m = random_memory(4, 2, 16, 200, 11);
  // Scores far apart between chunks, so that the chunks' maxima differ and the combine matters.
  for (int64_t j = 64; j < 128; ++j)
    for (int64_t c = 0; c < 2 * 16; ++c) m.keys[j * 32 + c] *= 4.0f;
  const int64_t R = m.shape.R, W = m.shape.W, RW = R * W, chunks = cpu::slot_chunks(m.slots);
  std::vector<float> e(R * cpu::kSlotChunk), partial(chunks * RW), stats(chunks * 2 * R), reads(RW);
  for (int64_t c = chunks - 1; c >= 0; --c)  // last chunk first, scratch reused as a worker would
    cpu::slot_read_chunk(m.shape, m.q.data(), m.keys.data(), m.values.data(), m.slots, c, e.data(),
                         partial.data() + c * RW, stats.data() + c * 2 * R);
  for (int64_t h = R - 1; h >= 0; --h) cpu::combine_chunks(m.shape, partial.data(), stats.data(), chunks, h, reads.data() + h * W);
  EXPECT_EQ(reads, slot_read(m));
  std::vector<double> want = direct_read(m);
  for (int64_t i = 0; i < RW; ++i) EXPECT_NEAR(reads[i], want[i], 2e-6);
}

}  // namespace
}  // namespace sdnc
