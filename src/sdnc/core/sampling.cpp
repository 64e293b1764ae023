// sampling.cpp — sample_token (see sampling.h).
#include "sdnc/core/sampling.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace sdnc {

int64_t sample_token(const float* logits, int64_t V, double temperature, int64_t top_k, Generator& g, double top_p) {
  // Greedy: the first maximum (the lowest id among ties), without sorting V logits per token.
  if (temperature == 0.0) return std::max_element(logits, logits + V) - logits;
  std::vector<int64_t> order(V);
  for (int64_t v = 0; v < V; ++v) order[v] = v;
  // Highest first; ties → lower id, so greedy decoding is deterministic.
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return logits[a] > logits[b]; });
  int64_t k = top_k > 0 ? std::min(top_k, V) : V;
  std::vector<double> p(k);
  double sum = 0.0;
  for (int64_t i = 0; i < k; ++i) sum += p[i] = std::exp((logits[order[i]] - logits[order[0]]) / temperature);
  if (top_p < 1.0) {
    double kept = 0.0;
    int64_t n = 0;
    while (n < k && kept < top_p * sum) kept += p[n++];
    k = std::max<int64_t>(n, 1);
    sum = kept > 0 ? kept : p[0];
  }
  double u = g.uniform() * sum;
  for (int64_t i = 0; i < k; ++i) {
    if ((u -= p[i]) < 0.0) return order[i];
  }
  return order[k - 1];
}

}  // namespace sdnc
