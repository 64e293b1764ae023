// graph_shortest_path.cpp — shortest paths on random graphs (after the DNC paper's graph
// tasks, Graves et al. 2016, sized for a small machine): a random connected undirected graph
// of n nodes, its edges as a list, a query (s, t); the answer is the nodes of the shortest
// path after s, ending in t. Tokens (V = 4 + 64):
//   0 padding, 1 '?' query marker, 2 '-' answer cue, 3 '|' end of an edge, 4 + l node label l
//   nodes carry n distinct labels drawn from [0, 64), so n ≤ 64
//   graph: a random spanning tree (node i joins a random earlier node) plus min(n/2, free
//          pairs) extra random edges; every edge listed once, in random order and direction
//   inputs  = [u v '|'] × E, '?', s, t, '-' × k        (k = edges on the path)
//   targets = −100 everywhere except the cue steps: the path's nodes after s, ending in t
// (s, t) is drawn uniformly among the pairs joined by exactly one shortest path, so the answer
// is unique. The task length L is n (≥ 2). Evaluation group "nodes=n"; metric: per-token
// accuracy on the path and sequence accuracy (the whole path right), per n (scoring.h).
// Held out: the hash partition of instances (token_batch.h).
#include <algorithm>
#include <deque>

#include "sdnc/core/error.h"
#include "sdnc/tasks/token_batch.h"

namespace sdnc::tasks {

namespace {

constexpr int64_t kQuery = 1, kCue = 2, kEdgeEnd = 3, kFirstLabel = 4, kLabels = 64;

class GraphShortestPathTask : public Task {
 public:
  std::string name() const override { return "graph_shortest_path"; }
  TaskKind kind() const override { return TaskKind::Tokens; }
  int64_t input_size() const override { return kFirstLabel + kLabels; }
  int64_t output_size() const override { return input_size(); }
  int64_t max_steps(int64_t n) const override { return 3 * edge_count(n) + 3 + (n - 1); }

  Batch sample(Generator& g, int64_t B, int64_t min_len, int64_t max_len, bool held_out) const override {
    if (min_len < 2 || max_len > kLabels)
      fail("task", "graph_shortest_path: the node count (length) must lie in [2, {}], got {}..{}", kLabels, min_len,
           max_len);
    std::vector<TokenSequence> seqs;
    for (int64_t e = 0; e < B; ++e) {
      int64_t n = g.randint(min_len, max_len + 1);
      seqs.push_back(draw_in_split(g, held_out, name(), [&](Generator& r) { return draw(r, n); }));
    }
    return pack_token_batch(seqs, 0);
  }

 private:
  static int64_t edge_count(int64_t n) { return (n - 1) + std::min(n / 2, n * (n - 1) / 2 - (n - 1)); }

  static TokenSequence draw(Generator& g, int64_t n) {
    std::vector<int64_t> labels(kLabels);
    for (int64_t i = 0; i < kLabels; ++i) labels[i] = i;
    for (int64_t i = 0; i < n; ++i) std::swap(labels[i], labels[g.randint(i, kLabels)]);
    std::vector<std::vector<bool>> adj(n, std::vector<bool>(n, false));
    std::vector<std::pair<int64_t, int64_t>> edges;
    auto add = [&](int64_t u, int64_t v) {
      adj[u][v] = adj[v][u] = true;
      edges.emplace_back(u, v);
    };
    for (int64_t i = 1; i < n; ++i) add(i, g.randint(0, i));
    while (static_cast<int64_t>(edges.size()) < edge_count(n)) {
      int64_t u = g.randint(0, n), v = g.randint(0, n);
      if (u != v && !adj[u][v]) add(u, v);
    }
    for (int64_t i = static_cast<int64_t>(edges.size()) - 1; i > 0; --i) std::swap(edges[i], edges[g.randint(0, i + 1)]);
    // Pairs with exactly one shortest path (BFS path counts, capped at 2).
    std::vector<std::pair<int64_t, int64_t>> unique_pairs;
    std::vector<std::vector<int64_t>> parent(n);
    for (int64_t s = 0; s < n; ++s) {
      std::vector<int64_t> dist(n, -1), count(n, 0);
      parent[s].assign(n, -1);
      std::deque<int64_t> queue{s};
      dist[s] = 0;
      count[s] = 1;
      while (!queue.empty()) {
        int64_t u = queue.front();
        queue.pop_front();
        for (int64_t v = 0; v < n; ++v) {
          if (!adj[u][v]) continue;
          if (dist[v] < 0) {
            dist[v] = dist[u] + 1;
            parent[s][v] = u;
            queue.push_back(v);
          }
          if (dist[v] == dist[u] + 1) count[v] = std::min<int64_t>(2, count[v] + count[u]);
        }
      }
      for (int64_t t = 0; t < n; ++t)
        if (t != s && count[t] == 1) unique_pairs.emplace_back(s, t);
    }
    auto [s, t] = unique_pairs[g.randint(0, static_cast<int64_t>(unique_pairs.size()))];
    std::vector<int64_t> path;  // t back to (excluding) s
    for (int64_t v = t; v != s; v = parent[s][v]) path.push_back(v);
    std::reverse(path.begin(), path.end());

    TokenSequence seq;
    seq.group = "nodes=" + std::to_string(n);
    auto push = [&](int64_t input, int64_t target) {
      seq.inputs.push_back(input);
      seq.targets.push_back(target);
    };
    for (auto [u, v] : edges) {
      if (g.uniform() < 0.5) std::swap(u, v);
      push(kFirstLabel + labels[u], kNotScored);
      push(kFirstLabel + labels[v], kNotScored);
      push(kEdgeEnd, kNotScored);
    }
    push(kQuery, kNotScored);
    push(kFirstLabel + labels[s], kNotScored);
    push(kFirstLabel + labels[t], kNotScored);
    for (int64_t v : path) push(kCue, kFirstLabel + labels[v]);
    return seq;
  }
};

}  // namespace

std::unique_ptr<Task> make_graph_shortest_path_task(const TaskConfig&) {
  return std::make_unique<GraphShortestPathTask>();
}

}  // namespace sdnc::tasks
