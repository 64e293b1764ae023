// Fuzz target: a sentence-transformers BERT folder as models/bert.h loads it. The input is
//   config.json \0 1_Pooling/config.json \0 modules.json \0 sentence_bert_config.json \0 model.safetensors
// (the JSON parts hold no NUL; the weights take the rest). An empty part is a missing file.
// With a fixed vocab.txt beside them, SentenceEmbedder::load reads the folder (the config keys,
// every tensor's name, dtype, shape and values checked against the config, the pooling mode,
// the modules, max_seq_length); a model that loads embeds a short text in both forms.
#include <cstring>

#include "fuzz_target.h"
#include "sdnc/models/bert.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sdnc::fuzz::use_one_thread();  // the model forward runs on this thread alone
  static const char* names[] = {"config.json", "1_Pooling/config.json", "modules.json", "sentence_bert_config.json",
                                "model.safetensors"};
  sdnc::fuzz::ScratchDir dir;
  size_t at = 0;
  for (size_t k = 0; k < 5 && at <= size; ++k) {
    const uint8_t* nul = k < 4 ? static_cast<const uint8_t*>(std::memchr(data + at, 0, size - at)) : nullptr;
    const size_t end = nul ? static_cast<size_t>(nul - data) : size;
    if (end > at) dir.add(names[k], data + at, end - at);
    at = end + 1;
  }
  static const std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\nworld\n";
  dir.add("vocab.txt", reinterpret_cast<const uint8_t*>(vocab.data()), vocab.size());
  try {
    const sdnc::models::SentenceEmbedder e = sdnc::models::SentenceEmbedder::load(dir.path());
    for (auto form : {sdnc::models::BertEncoder::Form::Parallel, sdnc::models::BertEncoder::Form::Recurrent}) {
      const std::vector<float> v = e.embed("hello world", form);
      if (v.size() != static_cast<size_t>(e.encoder().config().d_model)) std::abort();
    }
  } catch (const sdnc::Error& e) {
    sdnc::fuzz::check_message(e);
  }
  return 0;
}
