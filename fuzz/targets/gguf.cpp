// Fuzz target: a GGUF file's bytes (io/gguf.h): the header, metadata of every value type,
// tensor infos and data; every accepted tensor is dequantised. Then what a Llama model makes of
// the file: LlamaConfig::from_gguf, the byte-level BPE tokenizer from its metadata (encoding
// and decoding a short string) and LlamaModel::load with its weight shape checks; a model that
// loads decodes one step in the recurrent and the parallel form.
#include <optional>
#include <vector>

#include "fuzz_target.h"
#include "sdnc/io/gguf.h"
#include "sdnc/models/llama.h"
#include "sdnc/tokenizers/bpe.h"

namespace {

// Touches every metadata value the way the readers do (integers, floats, nested arrays).
void read_values(const sdnc::gguf::Value& v) {
  if (v.is_integer()) (void)v.as_int();
  if (v.is_integer() || v.type == sdnc::gguf::ValueType::FLOAT32 || v.type == sdnc::gguf::ValueType::FLOAT64)
    (void)v.as_double();
  for (const auto& e : v.array) read_values(e);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sdnc::fuzz::ScratchFile file(data, size, ".gguf");
  std::optional<sdnc::gguf::File> f;
  try {
    f = sdnc::gguf::File::open(file.path());
  } catch (const sdnc::Error& e) {
    sdnc::fuzz::check_message(e);
    return 0;
  }
  // What was accepted is self-consistent: every tensor's bytes lie inside the file.
  for (const auto& t : f->tensors()) {
    if (f->data_offset() + t.offset + t.nbytes > f->size()) std::abort();
    (void)f->dequantize(t);
  }
  for (const auto& key : f->metadata_order()) {
    try {
      read_values(f->get(key));
    } catch (const sdnc::Error& e) {
      sdnc::fuzz::check_message(e);  // an unsigned value over INT64_MAX
    }
  }
  try {
    (void)sdnc::models::LlamaConfig::from_gguf(*f);
  } catch (const sdnc::Error& e) {
    sdnc::fuzz::check_message(e);
  }
  try {
    sdnc::tokenizers::Bpe bpe = sdnc::tokenizers::Bpe::from_gguf(*f);
    const std::string text = "Hello, world 123 <|im_start|>user\n\xc3\xa9t\xc3\xa9 \xe2\x9c\x93";
    const std::vector<int64_t> ids = bpe.encode(text);
    for (int64_t id : ids)
      if (id < 0 || id >= bpe.vocab_size()) std::abort();
    (void)bpe.decode(ids);
  } catch (const sdnc::Error& e) {
    sdnc::fuzz::check_message(e);
  }
  try {
    sdnc::models::LlamaModel m = sdnc::models::LlamaModel::load(file.path());
    const int64_t V = m.config().vocab;
    std::vector<float> logits(static_cast<size_t>(V));
    auto state = m.initial_state(2);
    for (int64_t token : {int64_t{0}, V - 1, int64_t{0}}) m.step(token, state, logits.data());
    (void)m.forward({0, V - 1});
  } catch (const sdnc::Error& e) {
    sdnc::fuzz::check_message(e);
  }
  return 0;
}
