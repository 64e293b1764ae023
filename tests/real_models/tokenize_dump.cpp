// tokenize_dump — the C++ side of tests/golden/check_tokenizers.py: tokenises strings with
// sdnc's tokenizers so the script can compare the ids with Hugging Face `tokenizers`.
//   tokenize_dump (--wordpiece tokenizer.json|vocab.txt | --gguf FILE) --in IN --out OUT.json
// IN: one string per line, hex-encoded UTF-8 (so any bytes, newlines included, survive).
// OUT.json: a list, per string either {"ids": [...]} or {"error": "<message>"}; WordPiece ids
// include [CLS]/[SEP], BPE ids parse special tokens and add no BOS.
// A file that cannot be loaded prints one line "sdnc: [...] ..." and exits 1.
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "sdnc/core/error.h"
#include "sdnc/io/gguf.h"
#include "sdnc/tokenizers/bpe.h"
#include "sdnc/tokenizers/wordpiece.h"

using namespace sdnc;

namespace {

std::string unhex(const std::string& h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string wordpiece, gguf_path, in_path, out_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--wordpiece") wordpiece = argv[i + 1];
    else if (a == "--gguf") gguf_path = argv[i + 1];
    else if (a == "--in") in_path = argv[i + 1];
    else if (a == "--out") out_path = argv[i + 1];
    else { std::fprintf(stderr, "sdnc: [tokenize_dump] unknown flag '%s'\n", a.c_str()); return 2; }
  }
  if ((wordpiece.empty() == gguf_path.empty()) || in_path.empty() || out_path.empty()) {
    std::fprintf(stderr, "usage: tokenize_dump (--wordpiece F | --gguf F) --in IN --out OUT\n");
    return 2;
  }
  try {
    std::unique_ptr<tokenizers::WordPiece> wp;
    std::unique_ptr<tokenizers::Bpe> bpe;
    if (!wordpiece.empty()) {
      const bool txt = wordpiece.size() > 4 && wordpiece.substr(wordpiece.size() - 4) == ".txt";
      wp = std::make_unique<tokenizers::WordPiece>(
          txt ? tokenizers::WordPiece::from_vocab_txt(wordpiece)
              : tokenizers::WordPiece::from_tokenizer_json(wordpiece));
    } else {
      bpe = std::make_unique<tokenizers::Bpe>(tokenizers::Bpe::from_gguf(gguf::File::open(gguf_path)));
    }
    std::ifstream in(in_path);
    if (!in) fail("tokenize_dump", "{}: cannot open", in_path);
    nlohmann::json out = nlohmann::json::array();
    std::string line;
    while (std::getline(in, line)) {
      const std::string text = unhex(line);
      try {
        out.push_back({{"ids", wp ? wp->encode(text) : bpe->encode(text)}});
      } catch (const Error& e) {
        out.push_back({{"error", e.what()}});
      }
    }
    std::ofstream(out_path) << out.dump();
  } catch (const Error& e) {
    std::fprintf(stderr, "sdnc: %s\n", e.what());
    return 1;
  }
  return 0;
}
