#include "sdnc/tasks/formal_language.h"

#include "sdnc/tasks/token_batch.h"

namespace sdnc::tasks {

std::vector<int64_t> FormalLanguageTask::draw_input(Generator& g, int64_t L) const {
  std::vector<int64_t> x(L);
  for (auto& s : x) s = g.randint(0, alphabet_);
  return x;
}

Batch FormalLanguageTask::sample(Generator& g, int64_t B, int64_t min_len, int64_t max_len, bool held_out) const {
  std::vector<TokenSequence> seqs;
  for (int64_t e = 0; e < B; ++e) {
    int64_t L = g.randint(min_len, max_len + 1);
    seqs.push_back(draw_in_split(g, held_out, name_, [&](Generator& r) {
      std::vector<int64_t> x = draw_input(r, L), y = solve(x);
      TokenSequence s;
      s.group = "length=" + std::to_string(L);
      for (int64_t v : x) {
        s.inputs.push_back(kFormalFirstSymbol + v);
        s.targets.push_back(kNotScored);
      }
      for (int64_t v : y) {
        s.inputs.push_back(kFormalCue);
        s.targets.push_back(kFormalFirstSymbol + v);
      }
      return s;
    }));
  }
  return pack_token_batch(seqs, kFormalPad);
}

}  // namespace sdnc::tasks
