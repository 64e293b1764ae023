// What the fuzz targets found (fuzz/corpus/*/finding-*), as unit tests. Every refusal of a
// model or config file is one "[where] ..." line, and no input hangs. Names and strings read
// from a file are quoted escaped (io/utf8.h printable): a GGUF key or tensor name, a
// safetensors tensor name, a tokenizer.json token, a config.json value or an unknown
// train-config key holding a line break stays on one line. A BERT config.json of the wrong
// JSON types is refused by the loader, naming the file, not by nlohmann::json.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "sdnc/io/gguf.h"
#include "sdnc/io/safetensors.h"
#include "sdnc/models/bert.h"
#include "sdnc/train/train_config.h"
#include "sdnc/tokenizers/wordpiece.h"

namespace sdnc {
namespace {

std::string u32(uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); }
std::string u64(uint64_t v) { return std::string(reinterpret_cast<const char*>(&v), 8); }
std::string gguf_string(const std::string& s) { return u64(s.size()) + s; }

std::string write_temp(const std::string& name, const std::string& bytes) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// The message of the Error `f` throws; it must be one line holding `escaped`.
template <class F>
void expect_one_line(F&& f, const std::string& escaped) {
  try {
    f();
    ADD_FAILURE() << "accepted";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    EXPECT_EQ(m.find('\r'), std::string::npos) << m;
    EXPECT_NE(m.find(escaped), std::string::npos) << m << " (expected " << escaped << ")";
  }
}

TEST(FuzzFindings, GgufKeyAndTensorNameWithALineBreak) {
  // A UINT8 value of unknown type 13 after the key "a\nb".
  const std::string header = std::string("GGUF") + u32(3) + u64(0) + u64(1);
  const std::string key = header + gguf_string("a\nb") + u32(13) + std::string(16, '\0');
  expect_one_line([&] { gguf::File::open(write_temp("key.gguf", key)); }, "metadata 'a\\nb': unknown value type 13");
  // A tensor "t\r\n" with 0 dimensions.
  const std::string tensor = std::string("GGUF") + u32(3) + u64(1) + u64(0) + gguf_string("t\r\n") + u32(0) +
                             std::string(24, '\0');
  expect_one_line([&] { gguf::File::open(write_temp("tensor.gguf", tensor)); }, "tensor 't\\r\\n': 0 dimensions");
}

TEST(FuzzFindings, SafetensorsTensorNameWithALineBreak) {
  const std::string header = R"({"w\nx":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})";
  const std::string bytes = u64(header.size()) + header + std::string(4, '\0');
  expect_one_line([&] { parse_safetensors(bytes, "x.safetensors"); }, "tensor 'w\\nx' of dtype F32");
}

TEST(FuzzFindings, TokenizerJsonTokenWithALineBreak) {
  const std::string json = R"({"normalizer":null,"model":{"type":"WordPiece","vocab":{"[UNK]":0,"a\nb":5}}})";
  expect_one_line([&] { tokenizers::WordPiece::from_tokenizer_json(write_temp("tokenizer.json", json)); },
                  "model.vocab['a\\nb'] = 5 is out of range");
  const std::string type = R"({"normalizer":null,"model":{"type":"Word\nPiece","vocab":{}}})";
  expect_one_line([&] { tokenizers::WordPiece::from_tokenizer_json(write_temp("tokenizer.json", type)); },
                  "model.type is 'Word\\nPiece'");
}

TEST(FuzzFindings, BertConfigValueWithALineBreak) {
  expect_one_line([&] { models::BertConfig::from_json(nlohmann::json{{"model_type", "bert\n"}}, "config.json"); },
                  "key 'model_type' is 'bert\\n'");
}

TEST(FuzzFindings, TrainConfigUnknownKeyWithALineBreak) {
  expect_one_line([&] { train::TrainConfig::from_json(nlohmann::json{{"mmeel\n^]", 5}}, "t.json"); },
                  "unknown key 'mmeel\\n^]'");
}

TEST(FuzzFindings, BertConfigOfTheWrongJsonTypes) {
  auto expect_bert_error = [](const nlohmann::json& j, const std::string& part) {
    try {
      models::BertConfig::from_json(j, "config.json");
      ADD_FAILURE() << "accepted " << j.dump();
    } catch (const Error& e) {
      const std::string m = e.what();
      EXPECT_EQ(m.rfind("[bert] config.json: ", 0), 0u) << m;
      EXPECT_NE(m.find(part), std::string::npos) << m << " (expected " << part << ")";
    }
  };
  expect_bert_error(nlohmann::json::array({1}), "not a JSON object");
  expect_bert_error(nlohmann::json{{"model_type", 1}}, "type must be string");
  nlohmann::json c = {{"num_hidden_layers", 1}, {"hidden_size", 4}, {"num_attention_heads", 2},
                      {"intermediate_size", 8}, {"vocab_size", 6}, {"max_position_embeddings", 5},
                      {"type_vocab_size", 2}, {"layer_norm_eps", "x"}};
  expect_bert_error(c, "type must be number");
  c["layer_norm_eps"] = 1e-5;
  EXPECT_EQ(models::BertConfig::from_json(c, "config.json").d_ffn, 8);
}

TEST(FuzzFindings, AnEmptyAddedTokenMatchesNothing) {
  // Before the fix, encoding looped for ever: "" matched at every position without moving on.
  const std::string json =
      R"({"normalizer":null,"model":{"type":"WordPiece","vocab":{"[UNK]":0,"[CLS]":1,"[SEP]":2,"":3,"ab":4}},)"
      R"("added_tokens":[{"content":""}]})";
  const auto wp = tokenizers::WordPiece::from_tokenizer_json(write_temp("empty_added.json", json));
  EXPECT_EQ(wp.encode("ab"), (std::vector<int64_t>{1, 4, 2}));
  EXPECT_EQ(wp.encode(""), (std::vector<int64_t>{1, 2}));
}

}  // namespace
}  // namespace sdnc
