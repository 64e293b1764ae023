// wordpiece.h — BERT's tokenizer: the BERT normaliser and pre-tokeniser, then WordPiece
// (greedy longest-match-first sub-words with a continuation prefix), as Hugging Face
// `tokenizers` defines them for bert-base-uncased and all-MiniLM-L6-v2:
//   1. added (special) tokens such as "[MASK]" are matched in the raw text first and kept whole;
//   2. normalise: drop NUL, U+FFFD and Cc/Cf/Cs/Co characters except \t \n \r (unassigned
//      code points stay, as in `tokenizers`); White_Space → ' ';
//      surround CJK ideographs with spaces; strip accents (NFD, drop Mn); lowercase;
//   3. pre-tokenise: split on White_Space, each punctuation character (P* or ASCII punctuation)
//      is its own word;
//   4. WordPiece each word: a word longer than `max_chars` characters, or one with a piece that
//      is in no vocabulary entry, becomes the unknown token (only pieces no longer than the
//      longest token are looked up);
//   5. [CLS] ... [SEP] around the ids when `add_special` is set.
// Invalid UTF-8 is refused with the byte offset ("[wordpiece] invalid UTF-8 at byte N").
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sdnc::tokenizers {

struct WordPieceOptions {
  bool clean_text = true;
  bool chinese_chars = true;
  bool strip_accents = true;
  bool lowercase = true;
  std::string unk_token = "[UNK]";
  std::string prefix = "##";        // continuing sub-word prefix
  int64_t max_chars = 100;          // max_input_chars_per_word
  std::string cls_token = "[CLS]";
  std::string sep_token = "[SEP]";
};

class WordPiece {
 public:
  // vocab.txt: one token per line, the id is the line number (0-based).
  static WordPiece from_vocab_txt(const std::string& path, WordPieceOptions options = {});
  // tokenizer.json of a Hugging Face BERT tokenizer (model.type "WordPiece", normalizer
  // "BertNormalizer"); refuses other models or normalisers, naming the key.
  static WordPiece from_tokenizer_json(const std::string& path);

  // Token ids of `text` ([CLS] first and [SEP] last when add_special).
  std::vector<int64_t> encode(std::string_view text, bool add_special = true) const;
  // The words after normalisation and pre-tokenisation (step 2-3, without added tokens).
  std::vector<std::string> pre_tokenize(std::string_view text) const;

  int64_t vocab_size() const { return static_cast<int64_t>(tokens_.size()); }
  const std::string& token(int64_t id) const;
  int64_t id(const std::string& token) const;  // -1 if absent
  const WordPieceOptions& options() const { return options_; }

 private:
  WordPiece(std::vector<std::string> tokens, WordPieceOptions options,
            std::vector<std::string> added, const std::string& source);
  // WordPiece of one pre-tokenised word (UTF-8): at each character the longest piece that is a
  // token, trying only pieces no longer than the longest token (O(chars × longest), not chars³).
  void word_piece(std::string_view word, std::vector<int64_t>& out) const;
  void encode_plain(std::string_view text, std::vector<int64_t>& out) const;

  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int64_t> ids_;
  WordPieceOptions options_;
  std::vector<std::string> added_;  // special tokens matched whole in the raw text
  int64_t unk_ = -1, cls_ = -1, sep_ = -1;
  size_t longest_token_ = 0;  // bytes
};

}  // namespace sdnc::tokenizers
