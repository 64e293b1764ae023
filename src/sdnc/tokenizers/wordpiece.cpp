// wordpiece.cpp — the BERT normaliser, pre-tokeniser and WordPiece model.
#include "sdnc/tokenizers/wordpiece.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sdnc/core/error.h"
#include "sdnc/io/utf8.h"
#include "sdnc/tokenizers/special_tokens.h"
#include "sdnc/tokenizers/unicode.h"

namespace sdnc::tokenizers {

namespace {

constexpr const char* kOp = "wordpiece";

bool is_cjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool is_bert_punctuation(char32_t c) {
  const bool ascii_punct = (c >= 33 && c <= 47) || (c >= 58 && c <= 64) ||
                           (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
  return ascii_punct || unicode::is_punctuation(c);
}

bool is_bert_whitespace(char32_t c) {
  return c == '\t' || c == '\n' || c == '\r' || unicode::is_white_space(c);
}

// Cc Cf Cs Co, not Cn: Hugging Face `tokenizers` keeps unassigned code points (they become [UNK]).
bool is_bert_control(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  return unicode::is_other(c) && !unicode::is_unassigned(c);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(kOp, "{}: cannot open", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

WordPiece::WordPiece(std::vector<std::string> tokens, WordPieceOptions options,
                     std::vector<std::string> added, const std::string& source)
    : tokens_(std::move(tokens)), options_(std::move(options)), added_(std::move(added)) {
  for (size_t i = 0; i < tokens_.size(); ++i) {
    if (!ids_.emplace(tokens_[i], static_cast<int64_t>(i)).second)
      fail(kOp, "{}: token '{}' appears twice (ids {} and {})", source, printable(tokens_[i]),
           ids_[tokens_[i]], i);
    longest_token_ = std::max(longest_token_, tokens_[i].size());
  }
  unk_ = id(options_.unk_token);
  cls_ = id(options_.cls_token);
  sep_ = id(options_.sep_token);
  if (unk_ < 0) fail(kOp, "{}: the unknown token '{}' is not in the vocabulary", source, printable(options_.unk_token));
  if (cls_ < 0 || sep_ < 0)
    fail(kOp, "{}: the special tokens '{}' / '{}' are not in the vocabulary", source,
         options_.cls_token, options_.sep_token);
  for (const std::string& a : added_)
    if (id(a) < 0) fail(kOp, "{}: added token '{}' is not in the vocabulary", source, printable(a));
  // Longest first, so that a token that prefixes another never hides it.
  std::sort(added_.begin(), added_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

WordPiece WordPiece::from_vocab_txt(const std::string& path, WordPieceOptions options) {
  const std::string text = read_file(path);
  std::vector<std::string> tokens;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    tokens.push_back(std::move(line));
    start = end + 1;
  }
  if (tokens.empty()) fail(kOp, "{}: empty vocabulary", path);
  std::vector<std::string> added;
  for (const std::string& t : tokens)
    if (t.size() > 2 && t.front() == '[' && t.back() == ']') added.push_back(t);
  return WordPiece(std::move(tokens), std::move(options), std::move(added), path);
}

WordPiece WordPiece::from_tokenizer_json(const std::string& path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    fail(kOp, "{}: not valid JSON ({})", path, e.what());
  }
  try {
    const auto& model = j.at("model");
    if (model.value("type", "") != "WordPiece")
      fail(kOp, "{}: model.type is '{}', expected 'WordPiece'", path, printable(model.value("type", "")));
    WordPieceOptions o;
    o.unk_token = model.value("unk_token", o.unk_token);
    o.prefix = model.value("continuing_subword_prefix", o.prefix);
    o.max_chars = model.value("max_input_chars_per_word", o.max_chars);
    const auto& norm = j.at("normalizer");
    if (!norm.is_null()) {
      if (norm.value("type", "") != "BertNormalizer")
        fail(kOp, "{}: normalizer.type is '{}', expected 'BertNormalizer'", path,
             printable(norm.value("type", "")));
      o.clean_text = norm.value("clean_text", true);
      o.chinese_chars = norm.value("handle_chinese_chars", true);
      o.lowercase = norm.value("lowercase", true);
      const auto& strip = norm.at("strip_accents");
      o.strip_accents = strip.is_null() ? o.lowercase : strip.get<bool>();
    } else {
      o.clean_text = o.chinese_chars = o.lowercase = o.strip_accents = false;
    }
    const auto& vocab = model.at("vocab");
    std::vector<std::string> tokens(vocab.size());
    std::vector<bool> seen(vocab.size(), false);
    for (const auto& [token, id_json] : vocab.items()) {
      const int64_t i = id_json.get<int64_t>();
      if (i < 0 || i >= static_cast<int64_t>(tokens.size()) || seen[i])
        fail(kOp, "{}: model.vocab['{}'] = {} is out of range or repeated", path, printable(token), i);
      tokens[i] = token;
      seen[i] = true;
    }
    std::vector<std::string> added;
    if (j.contains("added_tokens"))
      for (const auto& a : j.at("added_tokens")) added.push_back(a.at("content").get<std::string>());
    return WordPiece(std::move(tokens), std::move(o), std::move(added), path);
  } catch (const nlohmann::json::exception& e) {
    fail(kOp, "{}: {}", path, e.what());
  }
}

const std::string& WordPiece::token(int64_t i) const {
  if (i < 0 || i >= vocab_size()) fail(kOp, "token id {} is outside the vocabulary [0, {})", i, vocab_size());
  return tokens_[i];
}

int64_t WordPiece::id(const std::string& t) const {
  auto it = ids_.find(t);
  return it == ids_.end() ? -1 : it->second;
}

std::vector<std::string> WordPiece::pre_tokenize(std::string_view text) const {
  const std::u32string in = unicode::decode_utf8(text, kOp);
  // Normalise.
  std::u32string norm;
  norm.reserve(in.size());
  std::u32string scratch;
  for (char32_t c : in) {
    if (options_.clean_text) {
      if (c == 0 || c == 0xFFFD || is_bert_control(c)) continue;
      if (is_bert_whitespace(c)) c = ' ';
    }
    if (options_.chinese_chars && is_cjk(c)) {
      norm.push_back(' ');
      norm.push_back(c);
      norm.push_back(' ');
      continue;
    }
    scratch.clear();
    if (options_.strip_accents) {
      std::u32string decomposed;
      unicode::append_decomposition(decomposed, c);
      for (char32_t d : decomposed)
        if (!unicode::is_nonspacing_mark(d)) scratch.push_back(d);
    } else {
      scratch.push_back(c);
    }
    for (char32_t d : scratch) {
      if (options_.lowercase) unicode::append_lowercase(norm, d);
      else norm.push_back(d);
    }
  }
  // Pre-tokenise: White_Space separates, punctuation stands alone.
  std::vector<std::string> words;
  std::u32string word;
  auto flush = [&] {
    if (!word.empty()) words.push_back(unicode::encode_utf8(word));
    word.clear();
  };
  for (char32_t c : norm) {
    if (is_bert_whitespace(c)) {
      flush();
    } else if (is_bert_punctuation(c)) {
      flush();
      word.push_back(c);
      flush();
    } else {
      word.push_back(c);
    }
  }
  flush();
  return words;
}

void WordPiece::word_piece(std::string_view word, std::vector<int64_t>& out) const {
  // The byte offset of every character of the (well-formed UTF-8) word, and the word's end.
  std::vector<size_t> at;
  for (size_t i = 0; i < word.size(); ++i)
    if ((static_cast<unsigned char>(word[i]) & 0xC0) != 0x80) at.push_back(i);
  at.push_back(word.size());
  const size_t chars = at.size() - 1;
  if (static_cast<int64_t>(chars) > options_.max_chars) { out.push_back(unk_); return; }
  const size_t before = out.size();
  size_t start = 0;
  std::string piece;
  while (start < chars) {
    const size_t prefix = start > 0 ? options_.prefix.size() : 0;
    // A piece longer than the longest token is in no vocabulary entry: start below that length.
    size_t end = chars;
    while (end > start && prefix + at[end] - at[start] > longest_token_) --end;
    int64_t found = -1;
    for (; end > start; --end) {
      piece.assign(options_.prefix, 0, prefix);
      piece.append(word.substr(at[start], at[end] - at[start]));
      found = id(piece);
      if (found >= 0) break;
    }
    if (found < 0) { out.resize(before); out.push_back(unk_); return; }
    out.push_back(found);
    start = end;
  }
}

void WordPiece::encode_plain(std::string_view text, std::vector<int64_t>& out) const {
  for (const std::string& w : pre_tokenize(text)) word_piece(w, out);
}

std::vector<int64_t> WordPiece::encode(std::string_view text, bool add_special) const {
  unicode::decode_utf8(text, kOp);  // refuse invalid UTF-8 before splitting on added tokens
  std::vector<int64_t> out;
  if (add_special) out.push_back(cls_);
  split_on_special_tokens(
      text, added_, [&](std::string_view piece) { encode_plain(piece, out); },
      [&](const std::string& token) { out.push_back(id(token)); });
  if (add_special) out.push_back(sep_);
  return out;
}

}  // namespace sdnc::tokenizers
