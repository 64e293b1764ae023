// sampling.h — choosing the next token from a language model's logits: greedy, temperature,
// top-k and top-p (nucleus) sampling with sdnc's seeded Generator. `sdnc generate` and the
// Python package's generate use this one function, so the same seed gives the same tokens.
#pragma once
#include <cstdint>

#include "sdnc/core/rng.h"

namespace sdnc {

// A token id from logits [V]. temperature 0: the argmax (ties → the lower id, so greedy decoding
// is deterministic) and no draw from g. Otherwise softmax(logits / temperature) restricted to the
// top_k most likely (0: all V), then to the smallest prefix of those whose probabilities sum to at
// least top_p (1: all), sampled with one g.uniform() draw.
int64_t sample_token(const float* logits, int64_t V, double temperature, int64_t top_k, Generator& g,
                     double top_p = 1.0);

}  // namespace sdnc
