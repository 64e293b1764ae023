// The pretrained models' machine configs (models/bert.h, models/llama.h) build the stacks the
// models load their checkpoints into: MachineConfig accepts them, and the stack's parameters
// have the shapes the checkpoints' tensors map onto (computed here from the published sizes).
// The numbers against the reference libraries are tests/golden/check_{minilm,smollm}.py's.
#include <gtest/gtest.h>

#include "sdnc/machine/machine_stack.h"
#include "sdnc/models/bert.h"
#include "sdnc/models/llama.h"

namespace sdnc {
namespace {

// name → shape of every parameter of a stack.
std::map<std::string, Shape> shapes(const machine::MachineStack& stack) {
  std::map<std::string, Shape> out;
  for (const auto& [name, p] : stack.named_parameters()) out[name] = p.shape();
  return out;
}

TEST(PretrainedStack, MiniLmConfigBuildsItsLayers) {
  // all-MiniLM-L6-v2's config.json (the sizes that matter), one layer to keep the test small.
  const nlohmann::json hf = {{"model_type", "bert"},          {"hidden_act", "gelu"},
                             {"num_hidden_layers", 1},        {"hidden_size", 384},
                             {"num_attention_heads", 12},     {"intermediate_size", 1536},
                             {"vocab_size", 30522},           {"max_position_embeddings", 512},
                             {"type_vocab_size", 2},          {"layer_norm_eps", 1e-12}};
  const models::BertConfig c = models::BertConfig::from_json(hf, "config.json");
  const machine::MachineConfig m = machine::MachineConfig::from_json(c.machine_config(), "bert");
  EXPECT_FALSE(m.causal);
  EXPECT_FALSE(m.norm_first);
  EXPECT_EQ(m.norm, machine::Norm::Layer);
  EXPECT_EQ(m.activation, "gelu");
  EXPECT_EQ(m.slices(), 12);
  EXPECT_DOUBLE_EQ(m.layer_norm_eps, 1e-12);
  const machine::MachineStack stack(m, 384);
  const std::map<std::string, Shape> expected = {
      {"layers.0.self_attn.in_proj_weight", {3 * 384, 384}},  // [Q ; K ; V]
      {"layers.0.self_attn.in_proj_bias", {3 * 384}},
      {"layers.0.self_attn.out_proj.weight", {384, 384}},
      {"layers.0.self_attn.out_proj.bias", {384}},
      {"layers.0.linear1.weight", {1536, 384}},
      {"layers.0.linear1.bias", {1536}},
      {"layers.0.linear2.weight", {384, 1536}},
      {"layers.0.linear2.bias", {384}},
      {"layers.0.norm1.weight", {384}},
      {"layers.0.norm1.bias", {384}},
      {"layers.0.norm2.weight", {384}},
      {"layers.0.norm2.bias", {384}}};
  EXPECT_EQ(shapes(stack), expected);
}

TEST(PretrainedStack, SmolLmConfigBuildsItsLayers) {
  // SmolLM2-135M's GGUF metadata, one layer to keep the test small.
  models::LlamaConfig c;
  c.layers = 1, c.d_model = 576, c.heads = 9, c.kv_heads = 3, c.head_dim = 64, c.d_ffn = 1536;
  c.vocab = 49152, c.context = 8192, c.rope_theta = 100000.0, c.rms_eps = 1e-5;
  const machine::MachineConfig m = machine::MachineConfig::from_json(c.machine_config(), "llama");
  EXPECT_TRUE(m.causal);
  EXPECT_TRUE(m.norm_first);
  EXPECT_EQ(m.norm, machine::Norm::Rms);
  EXPECT_EQ(m.positions, machine::Positions::Rope);
  EXPECT_DOUBLE_EQ(m.rope_theta, 100000.0);
  EXPECT_EQ(m.read_heads, 9);
  EXPECT_EQ(m.slices(), 3);  // GQA: 3 key/value heads for 9 query heads
  EXPECT_TRUE(m.has_parallel_form());
  const machine::MachineStack stack(m, 576);
  const std::map<std::string, Shape> expected = {
      {"layers.0.self_attn.in_proj_weight", {9 * 64 + 2 * 3 * 64, 576}},  // [Q ; K ; V], no bias
      {"layers.0.self_attn.out_proj.weight", {576, 9 * 64}},
      {"layers.0.linear1.weight", {2 * 1536, 576}},  // [gate ; up]
      {"layers.0.linear2.weight", {576, 1536}},
      {"layers.0.norm1.weight", {576}},
      {"layers.0.norm2.weight", {576}}};
  EXPECT_EQ(shapes(stack), expected);
}

}  // namespace
}  // namespace sdnc
