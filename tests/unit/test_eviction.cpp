// Rule-based eviction of a bounded append memory (machine config key `eviction`): on
// hand-made scores and read weights each rule overwrites the slot its definition names
// (window: the oldest slot after the sinks; h2o: the least read weight accumulated over the
// steps; tova: the least read weight at the last step, mean over heads), per batch element;
// window over a stream keeps the sinks and the last N − sinks steps (StreamingLLM); a machine
// generating with each rule stays at N slots; bad combinations are refused naming the key.
#include <gtest/gtest.h>

#include <algorithm>

#include "common/expect_error.h"
#include "common/random_tensors.h"
#include "sdnc/autograd/grad_mode.h"
#include "sdnc/machine/memory_machine.h"
#include "sdnc/machine/write_head.h"

namespace sdnc {
namespace {

using machine::Eviction;
using machine::MachineConfig;
using machine::MemoryState;

// stateless, append, dot, content, separate; R = 2 read heads of W = 1 over S = 2 slices: a
// slot row holds S·W = 2 numbers; bounded at N slots.
MachineConfig bounded(Eviction e, int64_t N, int64_t sinks = 0) {
  MachineConfig c = MachineConfig::transformer_corner();
  c.input_size = 3, c.output_size = 2, c.read_heads = 2, c.word_size = 1, c.d_model = 4, c.d_ffn = 4;
  c.memory_slots = N, c.eviction = e, c.sink_slots = sinks;
  c.validate("test");
  return c;
}

Tensor t(std::vector<double> v, Shape s) { return Tensor::from_vector(v, s, DType::F64); }

// One write of key = value = (v, v) into prev; returns the next state.
MemoryState write(const MachineConfig& c, const MemoryState& prev, double v, int64_t B = 2) {
  machine::Interface x;
  std::vector<double> row;
  for (int64_t b = 0; b < B; ++b) row.push_back(v), row.push_back(v);
  x.write_values = t(row, {B, 1, 2});
  x.write_keys = t(row, {B, 1, 2});
  MemoryState next;
  write_step(c, x, prev, next);
  return next;
}

// A full memory of 4 slots whose rows hold 10, 11, 12, 13, with the given scores and reads.
MemoryState full(const std::vector<double>& scores, const std::vector<double>& reads) {
  MemoryState m;
  std::vector<double> rows;
  for (int b = 0; b < 2; ++b)
    for (int j = 0; j < 4; ++j) rows.push_back(10 + j), rows.push_back(10 + j);
  m.keys = t(rows, {2, 4, 2});
  m.values = t(rows, {2, 4, 2});
  m.usage = t(scores, {2, 4});
  m.read_weights = t(reads, {2, 2, 4});
  m.write_weights = Tensor::zeros({2, 1, 4}, DType::F64);
  return m;
}

int64_t written_slot(const MemoryState& m, int64_t b) {
  auto w = m.write_weights.to_doubles();
  const int64_t n = m.write_weights.size(2);
  int64_t slot = -1;
  double total = 0;
  for (int64_t j = 0; j < n; ++j) {
    total += w[b * n + j];
    if (w[b * n + j] == 1.0) slot = j;
  }
  EXPECT_EQ(total, 1.0) << "one slot, one-hot";
  return slot;
}

// batch 0: scores [5, 1, 3, 4]; reads head 0 [.1 .6 .25 .05], head 1 [.3 .3 .3 .1]
//   → h2o totals [5.4, 1.9, 3.55, 4.15] (slot 1); tova means [.2 .45 .275 .075] (slot 3)
// batch 1: scores [0, 9, 9, 9], no reads → h2o slot 0; tova: all 0, the first slot (0)
const std::vector<double> kScores = {5, 1, 3, 4, 0, 9, 9, 9};
const std::vector<double> kReads = {.1, .6, .25, .05, .3, .3, .3, .1, 0, 0, 0, 0, 0, 0, 0, 0};

TEST(Eviction, H2oOverwritesTheLeastAccumulatedReadWeight) {
  NoGradGuard ng;
  MemoryState next = write(bounded(Eviction::H2o, 4), full(kScores, kReads), 99);
  EXPECT_EQ(written_slot(next, 0), 1);
  EXPECT_EQ(written_slot(next, 1), 0);
  auto s = next.usage.to_doubles();  // the totals, the new slot's reset to 0
  const std::vector<double> expect = {5.4, 0, 3.55, 4.15, 0, 9, 9, 9};
  for (size_t i = 0; i < expect.size(); ++i) EXPECT_NEAR(s[i], expect[i], 1e-12) << i;
  auto k = next.keys.to_doubles();  // slot 1 of batch 0 now holds the new key; the others are kept
  EXPECT_EQ((std::vector<double>{k[0], k[2], k[4], k[6]}), (std::vector<double>{10, 99, 12, 13}));
  EXPECT_EQ((std::vector<double>{k[8], k[10]}), (std::vector<double>{99, 11}));
  EXPECT_EQ(next.values.to_doubles()[2], 99);
}

TEST(Eviction, TovaOverwritesTheLeastReadWeightAtTheLastStep) {
  NoGradGuard ng;
  MemoryState next = write(bounded(Eviction::Tova, 4), full(kScores, kReads), 99);
  EXPECT_EQ(written_slot(next, 0), 3);  // not slot 1, which h2o picks: the past does not count
  EXPECT_EQ(written_slot(next, 1), 0);
  auto s = next.usage.to_doubles();
  const std::vector<double> expect = {.2, .45, .275, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < expect.size(); ++i) EXPECT_NEAR(s[i], expect[i], 1e-12) << i;
}

TEST(Eviction, WindowOverwritesTheOldestSlotAfterTheSinks) {
  NoGradGuard ng;
  // write stamps: batch 0 [0, 5, 2, 7] (slot 0 is the sink), batch 1 [3, 1, 2, 0]
  MemoryState next = write(bounded(Eviction::Window, 4, 1), full({0, 5, 2, 7, 3, 1, 2, 0}, kReads), 99);
  EXPECT_EQ(written_slot(next, 0), 2);  // stamp 2; the older slot 0 is a sink
  EXPECT_EQ(written_slot(next, 1), 3);  // stamp 0 and not a sink: slot 3 is not among the first sink_slots
  auto s = next.usage.to_doubles();
  EXPECT_EQ(s[2], 8);  // the newest stamp: one above the others
  EXPECT_EQ(s[7], 4);
}

TEST(Eviction, WindowOverAStreamKeepsTheSinksAndTheLastSteps) {
  NoGradGuard ng;
  for (int64_t sinks : {0, 1, 2}) {
    MachineConfig c = bounded(Eviction::Window, 4, sinks);
    MemoryState m;
    for (int step = 0; step < 11; ++step) m = write(c, m, step, 1);
    ASSERT_EQ(m.slots(), 4);
    std::vector<double> held;
    auto k = m.keys.to_doubles();
    for (int j = 0; j < 4; ++j) held.push_back(k[2 * j]);
    std::sort(held.begin(), held.end());
    std::vector<double> expect;  // steps 0..sinks−1, then the last 4 − sinks steps (up to 10)
    for (int s = 0; s < sinks; ++s) expect.push_back(s);
    for (int s = 10 - (4 - static_cast<int>(sinks)) + 1; s <= 10; ++s) expect.push_back(s);
    EXPECT_EQ(held, expect) << "sinks " << sinks;
  }
}

TEST(Eviction, GenerationWithEachRuleStaysBounded) {
  NoGradGuard ng;
  for (Eviction e : {Eviction::Learned, Eviction::Window, Eviction::H2o, Eviction::Tova}) {
    MachineConfig c = bounded(e, 3, e == Eviction::Window ? 1 : 0);
    machine::MemoryMachine m(c);
    Generator g(3);
    m.init(g);
    machine::MemoryMachine::State st = m.initial_state(1, DType::F32);
    for (int s = 0; s < 12; ++s) {
      Tensor y = m.step(test::randn({1, 3}, g, DType::F32), st);
      ASSERT_EQ(y.shape(), (Shape{1, 2}));
      ASSERT_LE(st.layers[0].memory.slots(), 3) << machine::name(e);
    }
    EXPECT_EQ(st.layers[0].memory.slots(), 3) << machine::name(e);
    if (e != Eviction::Learned) EXPECT_GE(written_slot(st.layers[0].memory, 0), 0) << "a rule writes one whole slot";
  }
}

TEST(Eviction, BadCombinationsAreRefusedNamingTheKey) {
  auto j = [](nlohmann::json extra) {
    nlohmann::json c = {{"controller", "stateless"}, {"write", "append"}, {"input_size", 3}, {"output_size", 2}};
    for (auto& [k, v] : extra.items()) c[k] = v;
    return c;
  };
  EXPECT_OP_ERROR(MachineConfig::from_json(j({{"eviction", "h2o"}}), "m.json"), "[config]", "memory_slots > 0");
  EXPECT_OP_ERROR(MachineConfig::from_json(j({{"eviction", "lru"}, {"memory_slots", 4}}), "m.json"), "[config]",
                  "key 'eviction' must be one of learned, window, h2o, tova");
  EXPECT_OP_ERROR(MachineConfig::from_json(j({{"eviction", "window"}, {"memory_slots", 4}, {"sink_slots", 4}}),
                                           "m.json"),
                  "[config]", "key 'sink_slots'");
  EXPECT_OP_ERROR(MachineConfig::from_json(j({{"eviction", "h2o"}, {"memory_slots", 4}, {"sink_slots", 1}}), "m.json"),
                  "[config]", "key 'sink_slots'");
  MachineConfig ok = MachineConfig::from_json(j({{"eviction", "window"}, {"memory_slots", 4}, {"sink_slots", 1}}),
                                              "m.json");
  EXPECT_EQ(ok.eviction, Eviction::Window);
  EXPECT_EQ(MachineConfig::from_json(ok.to_json(), "round trip").sink_slots, 1);
}

}  // namespace
}  // namespace sdnc
