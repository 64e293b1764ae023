// Fuzz target: any bytes (at most 4 KB) as text into the tokenizers' encoders, built once from
// the seed files of the wordpiece and gguf corpora: WordPiece from a tokenizer.json (uncased,
// accents stripped) and a vocab.txt, byte-level BPE from a GGUF with every byte in its
// vocabulary (GPT-2 pre-tokeniser) and one with an unknown token (SmolLM2's digit split).
// Checked against properties that do not come from the encoders:
//   * text that is not UTF-8 (io/utf8.h's validator, a separate implementation) is refused with
//     "invalid UTF-8 at byte N", N inside the first ill-formed sequence; UTF-8 is never refused;
//   * every id is in the vocabulary; [CLS] first and [SEP] last when asked for;
//   * WordPiece's words are non-empty and hold no white space;
//   * byte-level BPE with every byte in its vocabulary is lossless: decode(encode(text)) == text.
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string_view>

#include "fuzz_target.h"
#include "sdnc/io/gguf.h"
#include "sdnc/io/utf8.h"
#include "sdnc/tokenizers/bpe.h"
#include "sdnc/tokenizers/wordpiece.h"

namespace {

// The FILE part of a FILE \0 TEXT seed of fuzz/corpus/<target>/, in a scratch file.
std::unique_ptr<sdnc::fuzz::ScratchFile> seed_file(const std::string& target, const std::string& name,
                                                   const char* suffix) {
  std::ifstream in(std::string(SDNC_FUZZ_CORPUS) + "/" + target + "/" + name, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.empty()) {
    std::fprintf(stderr, "fuzz: seed %s/%s is missing\n", target.c_str(), name.c_str());
    std::abort();
  }
  if (target == "wordpiece") bytes = bytes.substr(0, bytes.find('\0'));
  return std::make_unique<sdnc::fuzz::ScratchFile>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                                                   suffix);
}

struct Encoders {
  std::vector<sdnc::tokenizers::WordPiece> wordpieces;
  std::vector<sdnc::tokenizers::Bpe> bpes;  // [0] has every byte, [1] an unknown token
  Encoders() {
    wordpieces.push_back(sdnc::tokenizers::WordPiece::from_tokenizer_json(
        seed_file("wordpiece", "tokenizer_json", "_tok.json")->path()));
    wordpieces.push_back(
        sdnc::tokenizers::WordPiece::from_vocab_txt(seed_file("wordpiece", "vocab_txt", "_vocab.txt")->path()));
    for (const char* name : {"llama_quant_bytes", "llama_f32_unk"})
      bpes.push_back(sdnc::tokenizers::Bpe::from_gguf(sdnc::gguf::File::open(seed_file("gguf", name, ".gguf")->path())));
  }
};

// Where the first ill-formed UTF-8 sequence starts (text.size() when there is none), found
// one character at a time with io/utf8.h's validator.
size_t first_invalid_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    size_t len = 0;
    for (size_t m = 1; m <= 4 && i + m <= text.size() && len == 0; ++m)
      if (sdnc::is_valid_utf8(text.substr(i, m))) len = m;
    if (len == 0) return i;
    i += len;
  }
  return i;
}

// Runs an encoder: UTF-8 must be accepted, anything else refused at the right byte.
template <class Encode>
bool encoded(std::string_view text, size_t bad_at, Encode&& encode) {
  try {
    encode();
  } catch (const sdnc::Error& e) {
    sdnc::fuzz::check_message(e);
    const std::string m = e.what();
    const size_t p = m.find("invalid UTF-8 at byte ");
    if (bad_at == text.size() || p == std::string::npos) {
      std::fprintf(stderr, "fuzz: refused: %s\n", m.c_str());
      std::abort();
    }
    const size_t n = std::strtoull(m.c_str() + p + 22, nullptr, 10);
    if (n < bad_at || n > bad_at + 3 || n >= text.size()) {
      std::fprintf(stderr, "fuzz: first bad byte at %zu, but: %s\n", bad_at, m.c_str());
      std::abort();
    }
    return false;
  }
  if (bad_at != text.size()) {
    std::fprintf(stderr, "fuzz: ill-formed UTF-8 at byte %zu accepted\n", bad_at);
    std::abort();
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Encoders* enc = new Encoders;  // built once, never freed
  const std::string_view text(reinterpret_cast<const char*>(data), std::min<size_t>(size, 4096));
  const size_t bad_at = first_invalid_utf8(text);
  for (const auto& wp : enc->wordpieces) {
    for (bool special : {true, false}) {
      std::vector<int64_t> ids;
      if (!encoded(text, bad_at, [&] { ids = wp.encode(text, special); })) continue;
      for (int64_t id : ids)
        if (id < 0 || id >= wp.vocab_size()) std::abort();
      if (special && (ids.size() < 2 || wp.token(ids.front()) != "[CLS]" || wp.token(ids.back()) != "[SEP]"))
        std::abort();
    }
    std::vector<std::string> words;
    if (encoded(text, bad_at, [&] { words = wp.pre_tokenize(text); }))
      for (const std::string& w : words)
        if (w.empty() || w.find_first_of(" \t\n\r") != std::string::npos) std::abort();
  }
  for (size_t k = 0; k < enc->bpes.size(); ++k) {
    const auto& bpe = enc->bpes[k];
    for (bool special : {true, false}) {
      std::vector<int64_t> ids;
      if (!encoded(text, bad_at, [&] { ids = bpe.encode(text, special); })) continue;
      for (int64_t id : ids)
        if (id < 0 || id >= bpe.vocab_size()) std::abort();
      if (k == 0 && bpe.decode(ids) != text) {
        std::fprintf(stderr, "fuzz: byte-level BPE lost bytes (parse_special %d)\n", special);
        std::abort();
      }
    }
  }
  return 0;
}
