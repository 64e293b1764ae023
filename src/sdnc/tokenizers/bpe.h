// bpe.h — GPT-2 style byte-level BPE, as a GGUF file describes it (tokenizer.ggml.model "gpt2"):
// the vocabulary (tokenizer.ggml.tokens, byte-level strings), the merges in rank order
// (tokenizer.ggml.merges, "left right"), the token types (3 = control: whole-matched special
// tokens such as "<|im_start|>") and the pre-tokeniser named by tokenizer.ggml.pre:
//   "gpt2":   the GPT-2 regex 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   "smollm": every digit (\p{N}) its own piece first, then the GPT-2 regex on the rest
//             (Hugging Face: Sequence[Digits(individual_digits), ByteLevel(use_regex)]).
// Encoding: special tokens are matched whole in the raw text (when parse_special), the rest is
// pre-tokenised, each piece's UTF-8 bytes are mapped to GPT-2's printable byte alphabet, and the
// adjacent pair of lowest merge rank is merged until none is left (leftmost first among equals),
// through a priority queue of the candidate pairs: O(n log n) for a piece of n bytes, so one
// long word costs no more than many short ones (a 32 KB one-letter word, SmolLM2: < 0.02 s).
// A byte with no vocabulary entry (SmolLM2 lacks 21, e.g. 0x04 and 0xff) encodes as the unknown
// token (tokenizer.ggml.unknown_token_id), consecutive ones fused into one, as transformers'
// GGUF tokenizer does; a file without an unknown token that lacks a byte is refused.
// Errors: "[bpe] <source>: ..." naming the key, the token or the byte offset (invalid UTF-8,
// a missing byte without an unknown token, a merge whose result is not a token).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sdnc::gguf { class File; }

namespace sdnc::tokenizers {

class Bpe {
 public:
  enum class PreTokenizer { gpt2, smollm };

  // From a GGUF file's tokenizer.ggml.* metadata.
  static Bpe from_gguf(const gguf::File& file);
  // From parts (`special` lists the whole-matched tokens; unknown_id -1: none).
  Bpe(std::vector<std::string> tokens, const std::vector<std::string>& merges,
      std::vector<std::string> special, PreTokenizer pre, int64_t unknown_id,
      const std::string& source);

  std::vector<int64_t> encode(std::string_view text, bool parse_special = true) const;
  // The pieces the pre-tokeniser cuts `text` into (UTF-8, before the byte mapping).
  std::vector<std::string> pre_tokenize(std::string_view text) const;
  // The bytes a token stands for (special tokens: their text).
  std::string decode_token(int64_t id) const;
  std::string decode(const std::vector<int64_t>& ids) const;

  int64_t vocab_size() const { return static_cast<int64_t>(tokens_.size()); }
  const std::string& token(int64_t id) const;
  int64_t id(const std::string& token) const;  // -1 if absent
  int64_t bos_id() const { return bos_; }
  int64_t eos_id() const { return eos_; }
  bool add_bos() const { return add_bos_; }

 private:
  void encode_piece(std::string_view piece, std::vector<int64_t>& out) const;
  void encode_plain(std::string_view text, std::vector<int64_t>& out) const;

  std::string source_;
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int64_t> ids_;
  std::unordered_map<std::string, int64_t> merge_rank_;  // "left right" → rank
  std::vector<std::string> special_;                     // longest first
  PreTokenizer pre_ = PreTokenizer::gpt2;
  int64_t byte_token_[256];                              // id of each single byte
  int64_t unk_ = -1, bos_ = -1, eos_ = -1;
  bool add_bos_ = false;
};

}  // namespace sdnc::tokenizers
