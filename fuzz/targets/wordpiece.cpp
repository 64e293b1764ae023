// Fuzz target: BERT's WordPiece tokenizer (tokenizers/wordpiece.h) read from a file, then
// encoding a text. The input is FILE \0 TEXT: FILE is a tokenizer.json when it starts with '{',
// else a vocab.txt; TEXT (any bytes, at most 4 KB) is encoded with and without [CLS]/[SEP].
#include <algorithm>
#include <cstring>
#include <string_view>

#include "fuzz_target.h"
#include "sdnc/tokenizers/wordpiece.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* bytes = reinterpret_cast<const char*>(data);
  const char* nul = static_cast<const char*>(std::memchr(bytes, 0, size));
  const size_t file_size = nul ? static_cast<size_t>(nul - bytes) : size;
  std::string_view text = nul ? std::string_view(nul + 1, size - file_size - 1) : std::string_view();
  text = text.substr(0, 4096);
  const bool json = file_size > 0 && bytes[0] == '{';
  sdnc::fuzz::ScratchFile file(data, file_size, json ? "_tokenizer.json" : "_vocab.txt");
  try {
    const sdnc::tokenizers::WordPiece wp = json ? sdnc::tokenizers::WordPiece::from_tokenizer_json(file.path())
                                                : sdnc::tokenizers::WordPiece::from_vocab_txt(file.path());
    for (bool special : {true, false}) {
      const std::vector<int64_t> ids = wp.encode(text, special);
      for (int64_t id : ids)
        if (id < 0 || id >= wp.vocab_size()) std::abort();
    }
    (void)wp.pre_tokenize(text);
  } catch (const sdnc::Error& e) {
    sdnc::fuzz::check_message(e);
  }
  return 0;
}
