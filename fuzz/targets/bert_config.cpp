// Fuzz target: a BERT model folder as models/bert.h loads it. The input is CONFIG \0 WEIGHTS:
// CONFIG becomes config.json and WEIGHTS model.safetensors of a scratch folder; then
// BertEncoder::load (the config keys, then every tensor's name, dtype, shape and values
// checked against the config). A model that loads encodes two tokens in both forms.
#include <cstring>

#include "fuzz_target.h"
#include "sdnc/models/bert.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const uint8_t* nul = static_cast<const uint8_t*>(std::memchr(data, 0, size));
  const size_t config_size = nul ? static_cast<size_t>(nul - data) : size;
  sdnc::fuzz::ScratchDir dir;
  dir.add("config.json", data, config_size);
  if (nul) dir.add("model.safetensors", nul + 1, size - config_size - 1);
  try {
    const sdnc::models::BertEncoder bert = sdnc::models::BertEncoder::load(dir.path());
    const int64_t V = bert.config().vocab;
    for (auto form : {sdnc::models::BertEncoder::Form::Parallel, sdnc::models::BertEncoder::Form::Recurrent}) {
      const std::vector<float> h = bert.encode({0, V - 1}, form);
      if (h.size() != static_cast<size_t>(2 * bert.config().d_model)) std::abort();
    }
  } catch (const sdnc::Error& e) {
    sdnc::fuzz::check_message(e);
  }
  return 0;
}
