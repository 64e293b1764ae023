// bpe.cpp — byte-level BPE: the pre-tokeniser (a hand-written matcher for the GPT-2 regex),
// GPT-2's byte alphabet and rank-ordered merging.
#include "sdnc/tokenizers/bpe.h"

#include <algorithm>
#include <queue>

#include "sdnc/core/error.h"
#include "sdnc/io/gguf.h"
#include "sdnc/io/utf8.h"
#include "sdnc/tokenizers/special_tokens.h"
#include "sdnc/tokenizers/unicode.h"

namespace sdnc::tokenizers {

namespace {

constexpr const char* kOp = "bpe";

// GPT-2's byte → printable character map: printable Latin-1 bytes map to themselves, the other
// 68 bytes to U+0100 + k in byte order.
const std::vector<std::string>& byte_alphabet() {
  static const std::vector<std::string> table = [] {
    std::vector<std::string> t(256);
    int k = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      const char32_t c = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(0x100 + k++);
      unicode::append_utf8(t[b], c);
    }
    return t;
  }();
  return table;
}

bool is_space(char32_t c) { return unicode::is_white_space(c); }
bool is_l(char32_t c) { return unicode::is_letter(c); }
bool is_n(char32_t c) { return unicode::is_number(c); }

// Length of the GPT-2 regex match at s[i] (always ≥ 1).
size_t gpt2_match(const std::u32string& s, size_t i) {
  const size_t n = s.size();
  if (s[i] == '\'' && i + 1 < n) {
    const char32_t a = s[i + 1];
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if (i + 2 < n) {
      const char32_t b = s[i + 2];
      if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    }
  }
  const size_t j = (s[i] == ' ' && i + 1 < n) ? i + 1 : i;  // the optional leading space
  auto run = [&](size_t from, auto pred) {
    size_t k = from;
    while (k < n && pred(s[k])) ++k;
    return k;
  };
  if (is_l(s[j])) return run(j, is_l) - i;
  if (is_n(s[j])) return run(j, is_n) - i;
  auto other = [](char32_t c) { return !is_space(c) && !is_l(c) && !is_n(c); };
  if (other(s[j])) return run(j, other) - i;
  // \s+(?!\S) then \s+.
  const size_t end = run(i, is_space);
  if (end == n) return end - i;
  if (end - i >= 2) return end - 1 - i;
  return end - i;
}

}  // namespace

Bpe::Bpe(std::vector<std::string> tokens, const std::vector<std::string>& merges,
         std::vector<std::string> special, PreTokenizer pre, int64_t unknown_id,
         const std::string& source)
    : source_(source), tokens_(std::move(tokens)), special_(std::move(special)), pre_(pre),
      unk_(unknown_id) {
  if (unk_ >= vocab_size())
    fail(kOp, "{}: unknown token id {} is outside the vocabulary [0, {})", source_, unk_, vocab_size());
  for (size_t i = 0; i < tokens_.size(); ++i)
    ids_.emplace(tokens_[i], static_cast<int64_t>(i));  // first id wins on repeats
  for (size_t r = 0; r < merges.size(); ++r) {
    const std::string& m = merges[r];
    const size_t sp = m.find(' ');
    if (sp == std::string::npos || sp == 0 || sp + 1 == m.size())
      fail(kOp, "{}: merge {} '{}' is not 'left right'", source_, r, printable(m));
    if (id(m.substr(0, sp) + m.substr(sp + 1)) < 0)
      fail(kOp, "{}: merge {} '{}' makes a token that is not in the vocabulary", source_, r, printable(m));
    merge_rank_.emplace(m, static_cast<int64_t>(r));
  }
  const auto& alphabet = byte_alphabet();
  for (int b = 0; b < 256; ++b) {
    byte_token_[b] = id(alphabet[b]);
    if (byte_token_[b] < 0 && unk_ < 0)
      fail(kOp, "{}: byte 0x{:02x} ('{}') has no token in the vocabulary", source_, b, alphabet[b]);
  }
  for (const std::string& s : special_)
    if (id(s) < 0) fail(kOp, "{}: special token '{}' is not in the vocabulary", source_, printable(s));
  std::sort(special_.begin(), special_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

Bpe Bpe::from_gguf(const gguf::File& file) {
  const std::string& src = file.path();
  const std::string& model = file.get_string("tokenizer.ggml.model");
  if (model != "gpt2")
    fail(kOp, "{}: tokenizer.ggml.model is '{}'; only byte-level BPE ('gpt2') is supported", src, printable(model));
  PreTokenizer pre = PreTokenizer::gpt2;
  if (const gguf::Value* p = file.find("tokenizer.ggml.pre")) {
    if (p->s == "smollm") pre = PreTokenizer::smollm;
    else if (p->s != "gpt2" && p->s != "default")
      fail(kOp, "{}: tokenizer.ggml.pre '{}' is not supported (supported: gpt2, smollm)", src, printable(p->s));
  }
  auto strings = [&](const char* key) {
    const gguf::Value& v = file.get(key);
    if (v.type != gguf::ValueType::ARRAY || v.array_type != gguf::ValueType::STRING)
      fail(kOp, "{}: metadata '{}' is not an array of strings", src, key);
    std::vector<std::string> out;
    out.reserve(v.array.size());
    for (const gguf::Value& e : v.array) out.push_back(e.s);
    return out;
  };
  std::vector<std::string> tokens = strings("tokenizer.ggml.tokens");
  std::vector<std::string> merges = strings("tokenizer.ggml.merges");
  std::vector<std::string> special;
  if (const gguf::Value* types = file.find("tokenizer.ggml.token_type")) {
    if (types->type != gguf::ValueType::ARRAY || types->array.size() != tokens.size())
      fail(kOp, "{}: tokenizer.ggml.token_type has {} entries for {} tokens", src,
           types->array.size(), tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i)
      if (types->array[i].as_int() == 3 && !tokens[i].empty()) special.push_back(tokens[i]);
  }
  const auto vocab = static_cast<int64_t>(tokens.size());
  auto token_id = [&](const char* key) -> int64_t {
    const gguf::Value* v = file.find(key);
    if (!v) return -1;
    const int64_t i = v->as_int();
    if (i < 0 || i >= vocab)
      fail(kOp, "{}: metadata '{}' = {} is outside the vocabulary [0, {})", src, key, i, vocab);
    return i;
  };
  Bpe bpe(std::move(tokens), merges, std::move(special), pre,
          token_id("tokenizer.ggml.unknown_token_id"), src);
  bpe.bos_ = token_id("tokenizer.ggml.bos_token_id");
  bpe.eos_ = token_id("tokenizer.ggml.eos_token_id");
  if (const gguf::Value* v = file.find("tokenizer.ggml.add_bos_token")) bpe.add_bos_ = v->u != 0;
  return bpe;
}

const std::string& Bpe::token(int64_t i) const {
  if (i < 0 || i >= vocab_size())
    fail(kOp, "{}: token id {} is outside the vocabulary [0, {})", source_, i, vocab_size());
  return tokens_[i];
}

int64_t Bpe::id(const std::string& t) const {
  auto it = ids_.find(t);
  return it == ids_.end() ? -1 : it->second;
}

std::vector<std::string> Bpe::pre_tokenize(std::string_view text) const {
  const std::u32string s = unicode::decode_utf8(text, kOp);
  std::vector<std::string> pieces;
  auto regex_split = [&](size_t from, size_t to) {
    const std::u32string part = s.substr(from, to - from);
    for (size_t i = 0; i < part.size();) {
      const size_t len = gpt2_match(part, i);
      pieces.push_back(unicode::encode_utf8(std::u32string_view(part).substr(i, len)));
      i += len;
    }
  };
  if (pre_ == PreTokenizer::gpt2) {
    regex_split(0, s.size());
    return pieces;
  }
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (!is_n(s[i])) continue;
    regex_split(start, i);
    pieces.push_back(unicode::encode_utf8(std::u32string_view(s).substr(i, 1)));
    start = i + 1;
  }
  regex_split(start, s.size());
  return pieces;
}

void Bpe::encode_piece(std::string_view piece, std::vector<int64_t>& out) const {
  const auto& alphabet = byte_alphabet();
  const size_t n = piece.size();
  // The parts as a list linked over their first byte's position; merging appends the right
  // part to the left one. A part's version counts its changes (merged into or away).
  std::vector<std::string> parts(n);
  std::vector<size_t> next(n), prev(n);
  std::vector<uint32_t> version(n, 0);
  for (size_t k = 0; k < n; ++k) {
    parts[k] = alphabet[static_cast<unsigned char>(piece[k])];
    next[k] = k + 1;
    prev[k] = k - 1;  // the first part's wraps to SIZE_MAX: none
  }
  // Every adjacent pair that is a merge, lowest rank first, leftmost first among equals: the
  // pair the rule picks next is the top one whose parts have not changed since it was queued.
  // O(n log n) for a piece of n bytes (rescanning every pair per merge is O(n²): a 32 KB
  // one-letter word took 10.6 s of CPU with SmolLM2's merges).
  struct Candidate {
    int64_t rank;
    size_t left, right;
    uint32_t left_version, right_version;
  };
  auto after = [](const Candidate& a, const Candidate& b) {
    return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;
  };
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(after)> queue(after);
  std::string key;
  auto consider = [&](size_t left) {  // the pair that starts at `left`
    if (left >= n || next[left] >= n) return;
    const size_t right = next[left];
    key.assign(parts[left]).append(" ").append(parts[right]);
    auto it = merge_rank_.find(key);
    if (it != merge_rank_.end()) queue.push({it->second, left, right, version[left], version[right]});
  };
  for (size_t k = 0; k + 1 < n; ++k) consider(k);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    if (version[c.left] != c.left_version || version[c.right] != c.right_version) continue;  // stale
    parts[c.left] += parts[c.right];
    parts[c.right].clear();
    ++version[c.left];
    ++version[c.right];
    next[c.left] = next[c.right];
    if (next[c.left] < n) prev[next[c.left]] = c.left;
    consider(prev[c.left]);
    consider(c.left);
  }
  // A part with no token is a byte the vocabulary lacks: the unknown token, consecutive ones
  // fused into one (what Hugging Face's BPE does with fuse_unk).
  bool last_unknown = false;
  for (size_t k = 0; k < n; k = next[k]) {
    const int64_t i = id(parts[k]);
    if (i >= 0) { out.push_back(i); last_unknown = false; continue; }
    if (!last_unknown) out.push_back(unk_);
    last_unknown = true;
  }
}

void Bpe::encode_plain(std::string_view text, std::vector<int64_t>& out) const {
  for (const std::string& piece : pre_tokenize(text)) encode_piece(piece, out);
}

std::vector<int64_t> Bpe::encode(std::string_view text, bool parse_special) const {
  unicode::decode_utf8(text, kOp);  // refuse invalid UTF-8 up front, with its offset
  std::vector<int64_t> out;
  if (add_bos_ && bos_ >= 0) out.push_back(bos_);
  if (!parse_special) { encode_plain(text, out); return out; }
  split_on_special_tokens(
      text, special_, [&](std::string_view piece) { encode_plain(piece, out); },
      [&](const std::string& token) { out.push_back(id(token)); });
  return out;
}

std::string Bpe::decode_token(int64_t i) const {
  const std::string& t = token(i);
  if (std::find(special_.begin(), special_.end(), t) != special_.end()) return t;
  static const std::unordered_map<char32_t, unsigned char> inverse = [] {
    std::unordered_map<char32_t, unsigned char> m;
    const auto& alphabet = byte_alphabet();
    for (int b = 0; b < 256; ++b) m[unicode::decode_utf8(alphabet[b], kOp)[0]] = static_cast<unsigned char>(b);
    return m;
  }();
  std::string out;
  for (char32_t c : unicode::decode_utf8(t, kOp)) {
    auto it = inverse.find(c);
    if (it == inverse.end()) unicode::append_utf8(out, c);  // not byte-level: keep the text
    else out += static_cast<char>(it->second);
  }
  return out;
}

std::string Bpe::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  for (int64_t i : ids) out += decode_token(i);
  return out;
}

}  // namespace sdnc::tokenizers
