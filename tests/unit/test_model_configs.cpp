// Model configs are strict (issue 15): every model's config.json round-trips through
// make_model → config_json → make_model; an unknown key is an error naming the nearest valid
// key; a missing required key is named; non-finite weights are refused with the tensor's name.
#include <gtest/gtest.h>

#include <cmath>

#include "common/expect_error.h"
#include "sdnc/io/config.h"
#include "sdnc/models/model.h"
#include "sdnc/sdnc.h"

namespace sdnc {
namespace {

using nlohmann::json;

// A small valid config per model type, with the key a typo test misspells and its misspelling.
struct Case {
  json config;
  std::string key, typo;
};

std::vector<Case> cases() {
  return {
      {{{"model_type", "gpt2"}, {"vocab_size", 11}, {"n_positions", 8}, {"n_embd", 8}, {"n_layer", 1}, {"n_head", 2}},
       "n_embd", "n_emdb"},
      {{{"model_type", "encoder"}, {"d_model", 8}, {"nhead", 2}, {"num_encoder_layers", 1}, {"dim_feedforward", 8},
        {"vocab_size", 7}, {"max_positions", 8}, {"norm_first", true}},
       "norm_first", "norm_frist"},
      {{{"model_type", "encoder_decoder"}, {"d_model", 8}, {"nhead", 2}, {"num_encoder_layers", 1},
        {"num_decoder_layers", 1}, {"dim_feedforward", 8}, {"vocab_size", 7}, {"max_positions", 8}},
       "num_decoder_layers", "num_decoder_layer"},
      {{{"model_type", "dnc"}, {"input_size", 3}, {"output_size", 2}, {"hidden_size", 8}, {"memory_size", 4},
        {"word_size", 4}, {"num_read_heads", 1}},
       "memory_size", "memroy_size"},
      {{{"model_type", "sdnc"}, {"input_size", 3}, {"output_size", 2}, {"d_model", 8}, {"nhead", 2},
        {"num_layers", 1}, {"dim_feedforward", 8}},
       "dim_feedforward", "dim_feed_forward"},
      {{{"model_type", "lstm"}, {"input_size", 3}, {"output_size", 2}, {"hidden_size", 8}}, "hidden_size",
       "hiden_size"},
  };
}

TEST(ModelConfigs, RoundTripThroughConfigJson) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.config.dump());
    auto a = models::make_model(c.config, "a.json");
    json saved = a->config_json();
    auto b = models::make_model(saved, "saved.json");  // what a checkpoint's config.json holds
    EXPECT_EQ(b->config_json(), saved);
    EXPECT_EQ(b->type(), a->type());
  }
}

TEST(ModelConfigs, UnknownKeyNamesTheNearestValidKey) {
  for (const Case& c : cases()) {
    json j = c.config;
    j[c.typo] = j.at(c.key);
    j.erase(c.key);
    EXPECT_OP_ERROR(models::make_model(j, "m.json"), "[config] m.json",
                    "unknown key '" + c.typo + "' (did you mean '" + c.key + "'?)");
    json far = c.config;
    far["zzzzzzzzzz"] = 1;  // no key is near: no suggestion, still refused
    EXPECT_OP_ERROR(models::make_model(far, "m.json"), "[config]", "unknown key 'zzzzzzzzzz'");
  }
}

TEST(ModelConfigs, MissingRequiredKeyIsNamed) {
  for (const Case& c : cases()) {
    if (!c.config.contains("input_size")) continue;
    for (const char* key : {"input_size", "output_size"}) {
      json j = c.config;
      j.erase(key);
      EXPECT_OP_ERROR(models::make_model(j, "m.json"), "[config] m.json", key);
    }
  }
  EXPECT_OP_ERROR(models::make_model(json{{"vocab_size", 3}}, "m.json"), "[config]", "model_type");
}

TEST(ModelConfigs, HuggingFaceGpt2KeysAcceptedOrRefusedByMeaning) {
  json j = cases()[0].config;
  for (const char* k : {"attn_pdrop", "embd_pdrop", "resid_pdrop", "initializer_range", "summary_first_dropout"})
    j[k] = 0.1;
  j["transformers_version"] = "4.30.0";
  j["task_specific_params"] = {{"text-generation", {{"max_length", 50}}}};
  j["bos_token_id"] = j["eos_token_id"] = 10;
  j["scale_attn_weights"] = true;
  EXPECT_NO_THROW(models::make_model(j, "hf.json"));
  j["scale_attn_weights"] = false;  // would change the arithmetic
  EXPECT_OP_ERROR(models::make_model(j, "hf.json"), "[config] hf.json", "scale_attn_weights");
  j["scale_attn_weights"] = true;
  j["scale_attn_by_inverse_layer_idx"] = true;
  EXPECT_OP_ERROR(models::make_model(j, "hf.json"), "[config] hf.json", "scale_attn_by_inverse_layer_idx");
}

TEST(ModelConfigs, ReaderRejectsWhatItDidNotRead) {
  json j = {{"alpha", 1}, {"beta", 2}, {"ignored", 3}};
  io::ConfigReader r(j, "x.json");
  r.positive_int("alpha", 0);
  EXPECT_OP_ERROR(r.reject_unknown({"ignored"}), "[config] x.json", "unknown key 'beta'");
  r.positive_int("beta", 0);
  EXPECT_NO_THROW(r.reject_unknown({"ignored"}));
  EXPECT_EQ(io::nearest_name("lenght", {"length", "lengths", "width"}), "length");
  EXPECT_EQ(io::nearest_name("frobnicate", {"eval", "train"}), "");
}

TEST(ModelConfigs, NonFiniteWeightsAreRefusedByName) {
  for (double bad : {NAN, INFINITY, -INFINITY}) {
    auto m = models::make_model(cases()[5].config, "lstm.json");
    auto state = m->module().state_dict();
    auto& [name, t] = *state.rbegin();
    Tensor broken = t.clone();
    broken.data<float>()[broken.numel() - 1] = static_cast<float>(bad);
    state[name] = broken;
    EXPECT_OP_ERROR(m->module().load_state_dict(state), "[load_state_dict]", "'" + name + "'");
    EXPECT_OP_ERROR(m->module().load_state_dict(state), "[load_state_dict]", "non-finite");
  }
}

}  // namespace
}  // namespace sdnc
