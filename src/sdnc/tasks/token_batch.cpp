#include "sdnc/tasks/token_batch.h"

#include <algorithm>

#include "sdnc/core/error.h"

namespace sdnc::tasks {

Batch pack_token_batch(const std::vector<TokenSequence>& sequences, int64_t pad) {
  const int64_t B = static_cast<int64_t>(sequences.size());
  int64_t T = 1;
  for (const auto& s : sequences) T = std::max<int64_t>(T, static_cast<int64_t>(s.inputs.size()));
  Batch b;
  b.tokens = Tensor::full({B, T}, static_cast<double>(pad), DType::I64);
  b.targets = Tensor::full({B, T}, static_cast<double>(kNotScored), DType::I64);
  for (int64_t e = 0; e < B; ++e) {
    const TokenSequence& s = sequences[e];
    std::copy(s.inputs.begin(), s.inputs.end(), b.tokens.data<int64_t>() + e * T);
    std::copy(s.targets.begin(), s.targets.end(), b.targets.data<int64_t>() + e * T);
    b.groups.push_back(s.group);
  }
  return b;
}

bool is_held_out_instance(const TokenSequence& s, const std::string& task_name) {
  uint64_t h = 0x5eed;
  for (char c : task_name) h = rng_hash(h, static_cast<unsigned char>(c));
  for (int64_t x : s.inputs) h = rng_hash(h, static_cast<uint64_t>(x));
  h = rng_hash(h, 0x7a59e7);  // inputs and targets apart
  for (int64_t x : s.targets) h = rng_hash(h, static_cast<uint64_t>(x));
  return (h & 1) == 1;
}

TokenSequence draw_in_split(Generator& g, bool held_out, const std::string& task_name,
                            const std::function<TokenSequence(Generator&)>& draw) {
  for (int attempt = 0; attempt < 4096; ++attempt) {
    TokenSequence s = draw(g);
    if (is_held_out_instance(s, task_name) == held_out) return s;
  }
  fail("task", "{}: no {} instance in 4096 draws (this length has too few distinct instances to split)", task_name,
       held_out ? "held-out" : "training");
}

}  // namespace sdnc::tasks
