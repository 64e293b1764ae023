// special_tokens.h — cutting text at whole-matched special tokens ("[MASK]", "<|im_start|>"),
// before the rest is normalised and tokenised, as Hugging Face `tokenizers` does with added
// tokens. `specials` must be sorted longest first, so a token that prefixes another never hides it;
// an empty token is never matched (it would match everywhere without moving on).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace sdnc::tokenizers {

// Calls plain(piece) for each stretch of text between special tokens (possibly empty) and
// special(token) for each special token, in order.
template <class Plain, class Special>
void split_on_special_tokens(std::string_view text, const std::vector<std::string>& specials, Plain&& plain,
                             Special&& special) {
  size_t start = 0, i = 0;
  while (i < text.size()) {
    const std::string* hit = nullptr;
    for (const std::string& s : specials)
      if (!s.empty() && text.compare(i, s.size(), s) == 0) { hit = &s; break; }  // "" matches nothing
    if (!hit) { ++i; continue; }
    plain(text.substr(start, i - start));
    special(*hit);
    i += hit->size();
    start = i;
  }
  plain(text.substr(start));
}

}  // namespace sdnc::tokenizers
