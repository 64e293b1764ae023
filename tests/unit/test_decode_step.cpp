// The decode op (ops/decode_step.h, MachineStack::decode_step) against the machine's general
// step (machine_layer.cpp: interface projection, write head, read heads, FFN as separate ops):
// a stack of Transformer-corner layers decoded one token at a time by the op gives the
// outputs of steps() position by position, with torch.nn's [out, in] weights and grouped-query
// memories (S < R), after a prompt fed through the chunk form (extend) too; the memory the op
// writes is the one steps() writes; where the op does not apply it says so.
#include <gtest/gtest.h>

#include <cmath>

#include "common/expect_error.h"
#include "common/tensor_compare.h"
#include "sdnc/autograd/grad_mode.h"
#include "sdnc/backend/cpu/gemv_lowp.h"
#include "sdnc/machine/machine_stack.h"
#include "sdnc/ops/decode_step.h"
#include "sdnc/sdnc.h"

namespace sdnc {
namespace {

using test::max_abs_diff;

machine::MachineConfig transformer_corner(int64_t R, int64_t S, const std::string& activation) {
  machine::MachineConfig c = machine::MachineConfig::transformer_corner();
  c.input_size = c.output_size = 24;
  c.d_model = 24, c.read_heads = R, c.memory_slices = S, c.word_size = 6, c.layers = 2, c.d_ffn = 40;
  c.activation = activation;
  c.validate("test");
  return c;
}

// Every parameter random (norm gains near 1), so that biases and norms all matter.
void randomise(machine::MachineStack& stack, uint64_t seed) {
  Generator g(seed);
  for (auto& [name, p] : stack.named_parameters()) {
    Tensor t = p;
    const bool gain = name.find("norm") != std::string::npos && name.ends_with(".weight");
    g.fill_normal(t, gain ? 1.0 : 0.0, gain ? 0.1 : 0.3);
  }
}

struct Case {
  int64_t R, S;
  std::string activation;
  int64_t prompt;  // positions fed through extend() before single tokens (0: none)
};

class DecodeStep : public ::testing::TestWithParam<Case> {};

TEST_P(DecodeStep, EqualsTheGeneralStepsPositionByPosition) {
  const Case& k = GetParam();
  machine::MachineStack stack(transformer_corner(k.R, k.S, k.activation), 24);
  randomise(stack, 7 + k.R + k.S);
  const int64_t T = 70;  // past 64 slots: the in-place memory grows on the way
  Generator g(3);
  Tensor x = Tensor::empty({1, T, 24});
  g.fill_normal(x, 0, 1);
  NoGradGuard no_grad;
  machine::MachineStack::State reference;
  Tensor expected = stack.steps(x, reference, {});  // [1, T, D]

  machine::MachineStack::State state;
  std::vector<Tensor> got;
  if (k.prompt) got.push_back(stack.extend(slice(x, 1, 0, k.prompt), state));
  for (int64_t t = k.prompt; t < T; ++t) {
    Tensor row = reshape(slice(x, 1, t, t + 1), {1, 24});
    ASSERT_TRUE(stack.has_decode_step(row));
    got.push_back(reshape(stack.decode_step(row, state), {1, 1, 24}));
  }
  EXPECT_EQ(state.position, T);
  EXPECT_LT(max_abs_diff(concat(got, 1), expected), 2e-5);
  for (size_t l = 0; l < stack.layers.size(); ++l) {  // the op wrote the memory steps() wrote
    EXPECT_LT(max_abs_diff(state.layers[l].memory.keys, reference.layers[l].memory.keys), 2e-5) << "layer " << l;
    EXPECT_LT(max_abs_diff(state.layers[l].memory.values, reference.layers[l].memory.values), 2e-5) << "layer " << l;
  }
  EXPECT_GT(state.layers[0].memory.key_buffer.size(1), 64);
}

INSTANTIATE_TEST_SUITE_P(Cases, DecodeStep,
                         ::testing::Values(Case{4, 4, "gelu_tanh", 0}, Case{4, 2, "relu", 0}, Case{4, 1, "gelu", 5},
                                           Case{6, 3, "gelu_tanh", 9}));

TEST(DecodeStep, SaysWhereItDoesNotApply) {
  machine::MachineConfig c = transformer_corner(4, 4, "relu");
  machine::MachineStack stack(c, 24);
  Tensor row = Tensor::zeros({1, 24});
  EXPECT_FALSE(stack.has_decode_step(row));  // autograd on: the op records none
  NoGradGuard no_grad;
  EXPECT_TRUE(stack.has_decode_step(row));
  EXPECT_FALSE(stack.has_decode_step(Tensor::zeros({2, 24})));  // two sequences
  EXPECT_FALSE(stack.has_decode_step(Tensor::zeros({1, 24}, DType::F64)));
  machine::MachineConfig rope = c;
  rope.positions = machine::Positions::Rope;
  EXPECT_FALSE(machine::MachineStack(rope, 24).has_decode_step(row));
  machine::MachineConfig swiglu = c;
  swiglu.activation = "swiglu";
  EXPECT_FALSE(machine::MachineStack(swiglu, 24).has_decode_step(row));
  machine::MachineStack::State state;
  expect_error([&] { stack.decode_step(Tensor::zeros({2, 24}), state); }, "machine", "decode_step");
}

// The matrices of stack (and head) replaced by the values their packed copies stand for.
void round_to_format(machine::MachineStack& stack, Tensor& head, cpu::WeightFormat f) {
  auto round = [&](Tensor w) {  // Linear layout [out, in]; w shares the parameter's storage
    const int64_t N = w.size(0), K = w.size(1);
    cpu::PackedMatrix p = cpu::pack_matrix(w.data<float>(), K, N, false, f);
    for (int64_t o = 0; o < N; ++o)
      for (int64_t i = 0; i < K; ++i) w.data<float>()[o * K + i] = cpu::unpacked(p, i, o);
  };
  for (auto& L : stack.layers)
    for (const Tensor& w : {L->self_attn->in_proj->weight, L->self_attn->out_proj->weight, L->ffn->up().weight,
                            L->ffn->down().weight})
      round(w);
  round(head);
}

TEST(DecodeStep, PackedWeightsEqualTheF32StepOnTheValuesTheyStandFor) {
  for (auto format : {cpu::WeightFormat::BF16, cpu::WeightFormat::Int8}) {
    SCOPED_TRACE(cpu::weight_format_name(format));
    machine::MachineConfig c = transformer_corner(4, 2, "gelu_tanh");
    machine::MachineStack stack(c, 24), rounded(c, 24);
    randomise(stack, 5), randomise(rounded, 5);
    Generator g(9);
    Tensor head_w = Tensor::empty({30, 24}), head_norm = Tensor::ones({24});
    g.fill_normal(head_w, 0, 0.3);
    Tensor rounded_head = head_w.clone();
    round_to_format(rounded, rounded_head, format);
    Tensor x = Tensor::empty({1, 70, 24});
    g.fill_normal(x, 0, 1);
    NoGradGuard no_grad;
    machine::MachineStack::State packed, reference, plain;
    packed.decode_weights = cpu::weight_format_name(format);
    double diff = 0, rounding = 0;
    for (int64_t t = 0; t < 70; ++t) {  // past 64 slots
      Tensor row = reshape(slice(x, 1, t, t + 1), {1, 24});
      Tensor a = stack.decode_step(row, packed, {head_norm, Tensor(), head_w});
      Tensor b = rounded.decode_step(row, reference, {head_norm, Tensor(), rounded_head});
      Tensor f = stack.decode_step(row, plain, {head_norm, Tensor(), head_w});
      diff = std::max(diff, max_abs_diff(a, b)), rounding = std::max(rounding, max_abs_diff(a, f));
    }
    ASSERT_TRUE(packed.decode_copies != nullptr);
    EXPECT_EQ(decode_weights_format(*packed.decode_copies), cpu::weight_format_name(format));
    EXPECT_LT(diff, 2e-5);      // the same products of the same values, in another order
    EXPECT_GT(rounding, 1e-4);  // and the copies were used: the rounding shows against F32
  }
}

// A layer of zeros, D = 8 (R = S = 2, W = 4), F = 16, room for 4 slots.
constexpr int64_t kTinyD = 8, kTinyF = 16;
DecodeLayerTensors tiny_layer() {
  const int64_t D = kTinyD, F = kTinyF;
  DecodeLayerTensors t;
  t.norm1_weight = t.norm2_weight = Tensor::ones({D});
  t.qkv_weight = Tensor::zeros({3 * D, D}), t.out_weight = Tensor::zeros({D, D});
  t.up_weight = Tensor::zeros({F, D}), t.down_weight = Tensor::zeros({D, F});
  t.key_buffer = t.value_buffer = Tensor::zeros({1, 4, D});
  return t;
}

DecodeStepOptions tiny_options() {
  DecodeStepOptions o;
  o.read_heads = 2, o.slices = 2, o.word_size = 4;
  return o;
}

TEST(DecodeStep, RefusesCopiesOfAnotherShapeAndUnknownFormats) {
  const int64_t D = kTinyD, F = kTinyF;
  DecodeLayerTensors t = tiny_layer();
  DecodeStepOptions o = tiny_options();
  NoGradGuard no_grad;
  auto copies = pack_decode_weights({t}, o, Tensor(), "int8");
  EXPECT_EQ(decode_weights_bytes(*copies), (3 * D * D + D * D + 2 * F * D) + 4 * (3 * D + D + F + D));
  EXPECT_EQ(decode_step(Tensor::zeros({1, D}), 0, {t}, o, Tensor(), Tensor(), Tensor(), copies.get()).shape(),
            (Shape{1, D}));
  DecodeLayerTensors wider = t;
  wider.up_weight = Tensor::zeros({F + 16, D}), wider.down_weight = Tensor::zeros({D, F + 16});
  expect_error([&] { decode_step(Tensor::zeros({1, D}), 0, {wider}, o, Tensor(), Tensor(), Tensor(), copies.get()); },
               "decode_step", "up weight: its int8 copy");
  expect_error([&] { decode_step(Tensor::zeros({1, D}), 0, {t, t}, o, Tensor(), Tensor(), Tensor(), copies.get()); },
               "decode_step", "copies hold 4 matrices");
  expect_error([&] { pack_decode_weights({t}, o, Tensor(), "int4"); }, "decode_step", "f32, bf16, int8");
}

TEST(DecodeStep, RefusesAMemoryWithoutRoomForTheNewSlot) {
  const int64_t D = kTinyD, F = kTinyF;
  DecodeLayerTensors t = tiny_layer();
  DecodeStepOptions o = tiny_options();
  NoGradGuard no_grad;
  EXPECT_EQ(decode_step(Tensor::zeros({1, D}), 3, {t}, o).shape(), (Shape{1, D}));
  expect_error([&] { decode_step(Tensor::zeros({1, D}), 4, {t}, o); }, "decode_step", "capacity > 4");
  t.up_weight = Tensor::zeros({F, D + 1});
  expect_error([&] { decode_step(Tensor::zeros({1, D}), 0, {t}, o); }, "decode_step", "up weight");
}

}  // namespace
}  // namespace sdnc
