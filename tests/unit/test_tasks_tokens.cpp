// The token tasks (mqar, the formal languages, graph_shortest_path): every sampled sequence is
// decoded and its answer recomputed here by an independent method; seeds reproduce; held-out
// instances never equal training ones; the scoring of hand-made outputs (scoring.h) and the
// masked loss against direct computations; bad task config values refused before training.
#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <map>
#include <set>

#include "sdnc/sdnc.h"
#include "sdnc/tasks/objective.h"
#include "sdnc/tasks/scoring.h"
#include "sdnc/tasks/task.h"
#include "sdnc/train/train_config.h"

namespace sdnc {
namespace {

using tasks::Batch;
constexpr int64_t kNot = -100;

std::unique_ptr<tasks::Task> token_task(const std::string& name, int64_t vocab = 8192, int64_t pairs = 0) {
  tasks::TaskConfig c;
  c.name = name;
  c.vocab_size = vocab;
  c.num_pairs = pairs;
  return tasks::make_task(c);
}

std::vector<int64_t> row(const Tensor& t, int64_t b) {
  const int64_t T = t.size(1);
  return {t.data<int64_t>() + b * T, t.data<int64_t>() + (b + 1) * T};
}

TEST(TokenTasks, MqarHasTheDocumentedLayout) {
  auto t = token_task("mqar");
  ASSERT_EQ(t->input_size(), 8192);
  Generator g(5);
  for (int64_t L : {64, 128, 256}) {
    Batch b = t->sample(g, 8, L, L, false);
    ASSERT_EQ(b.tokens.size(1), L);
    const int64_t P = L / 16;
    for (int64_t e = 0; e < 8; ++e) {
      EXPECT_EQ(b.groups[e], fmt::format("length={} pairs={}", L, P));
      std::vector<int64_t> x = row(b.tokens, e), y = row(b.targets, e);
      std::map<int64_t, int64_t> value_of;
      for (int64_t p = 0; p < P; ++p) {
        EXPECT_GE(x[2 * p], 1);
        EXPECT_LT(x[2 * p], 4096);
        EXPECT_GE(x[2 * p + 1], 4096);
        EXPECT_LT(x[2 * p + 1], 8192);
        EXPECT_FALSE(value_of.contains(x[2 * p])) << "keys are distinct";
        value_of[x[2 * p]] = x[2 * p + 1];
        EXPECT_EQ(y[2 * p], kNot);
        EXPECT_EQ(y[2 * p + 1], kNot);
      }
      std::set<int64_t> queried;
      for (int64_t s = 2 * P; s < L; ++s) {
        if (x[s] == 0) {
          EXPECT_EQ(y[s], kNot);
          continue;
        }
        ASSERT_TRUE(value_of.contains(x[s])) << "a query is one of the keys";
        EXPECT_EQ(y[s], value_of[x[s]]);
        queried.insert(x[s]);
      }
      EXPECT_EQ(static_cast<int64_t>(queried.size()), P) << "every key queried once";
    }
  }
  auto fixed = token_task("mqar", 64, 3);
  Batch b = fixed->sample(g, 2, 20, 20, true);
  EXPECT_EQ(b.groups[0], "length=20 pairs=3");
  EXPECT_THROW(fixed->sample(g, 1, 8, 8, false), Error);  // 3 pairs need length >= 9
}

// The answer of a formal-language input, computed here.
std::vector<int64_t> formal_answer(const std::string& name, const std::vector<int64_t>& x) {
  if (name == "parity") return {std::count(x.begin(), x.end(), 1) % 2};
  if (name == "reverse_string") return {x.rbegin(), x.rend()};
  if (name == "duplicate_string") {
    std::vector<int64_t> y = x;
    for (int64_t v : x) y.push_back(v);
    return y;
  }
  if (name == "bucket_sort") {  // counting sort
    std::vector<int64_t> y, count(5, 0);
    for (int64_t v : x) ++count[v];
    for (int64_t s = 0; s < 5; ++s) y.insert(y.end(), count[s], s);
    return y;
  }
  // modular_arithmetic, modulus 5 (symbols 5, 6, 7 = +, −, ×): multiply out the products
  // first into a list of signed terms, then sum.
  std::vector<int64_t> terms = {x[0]}, signs = {1};
  for (size_t i = 1; i < x.size(); i += 2) {
    if (x[i] == 7) terms.back() *= x[i + 1];
    else {
      terms.push_back(x[i + 1]);
      signs.push_back(x[i] == 5 ? 1 : -1);
    }
  }
  int64_t total = 0;
  for (size_t i = 0; i < terms.size(); ++i) total += signs[i] * terms[i];
  return {((total % 5) + 5) % 5};
}

TEST(TokenTasks, FormalLanguagesAnswerAsRecomputed) {
  for (const std::string name : {"parity", "modular_arithmetic", "reverse_string", "duplicate_string", "bucket_sort"}) {
    auto t = token_task(name);
    Generator g(9);
    for (int64_t L : {1, 7, 40, 41, 100}) {
      Batch b = t->sample(g, 6, L, L, L > 40);
      for (int64_t e = 0; e < 6; ++e) {
        EXPECT_EQ(b.groups[e], fmt::format("length={}", L));
        std::vector<int64_t> x = row(b.tokens, e), y = row(b.targets, e), input, answer;
        size_t s = 0;
        for (; s < x.size() && x[s] >= 2; ++s) {
          input.push_back(x[s] - 2);
          EXPECT_EQ(y[s], kNot) << name;
        }
        for (; s < x.size() && x[s] == 1; ++s) answer.push_back(y[s] - 2);
        for (; s < x.size(); ++s) EXPECT_EQ(x[s], 0) << name << ": only padding after the answer";
        EXPECT_EQ(static_cast<int64_t>(input.size()), name == "modular_arithmetic" ? 2 * L - 1 : L) << name;
        EXPECT_EQ(answer, formal_answer(name, input)) << name << " length " << L;
        EXPECT_LE(static_cast<int64_t>(input.size() + answer.size()), t->max_steps(L)) << name;
      }
    }
  }
}

TEST(TokenTasks, GraphPathsAreTheUniqueShortestPaths) {
  auto t = token_task("graph_shortest_path");
  Generator g(4);
  for (int64_t n : {2, 5, 12}) {
    Batch b = t->sample(g, 8, n, n, false);
    for (int64_t e = 0; e < 8; ++e) {
      EXPECT_EQ(b.groups[e], fmt::format("nodes={}", n));
      std::vector<int64_t> x = row(b.tokens, e), y = row(b.targets, e);
      std::map<int64_t, std::set<int64_t>> adj;
      size_t s = 0;
      for (; x[s] != 1; s += 3) {  // u v '|'
        ASSERT_EQ(x[s + 2], 3);
        EXPECT_NE(x[s], x[s + 1]);
        adj[x[s]].insert(x[s + 1]);
        adj[x[s + 1]].insert(x[s]);
      }
      EXPECT_EQ(static_cast<int64_t>(adj.size()), n) << "every node has an edge";
      int64_t from = x[s + 1], to = x[s + 2];
      std::vector<int64_t> path;
      for (s += 3; s < x.size() && x[s] == 2; ++s) path.push_back(y[s]);
      // Breadth-first distances and shortest-path counts from `from`.
      std::map<int64_t, int64_t> dist{{from, 0}}, ways{{from, 1}};
      std::deque<int64_t> queue{from};
      while (!queue.empty()) {
        int64_t u = queue.front();
        queue.pop_front();
        for (int64_t v : adj[u]) {
          if (!dist.contains(v)) {
            dist[v] = dist[u] + 1;
            queue.push_back(v);
          }
          if (dist[v] == dist[u] + 1) ways[v] += ways[u];
        }
      }
      EXPECT_EQ(static_cast<int64_t>(dist.size()), n) << "connected";
      EXPECT_EQ(ways[to], 1) << "the query has one shortest path";
      ASSERT_EQ(static_cast<int64_t>(path.size()), dist[to]);
      int64_t at = from;
      for (int64_t v : path) {
        EXPECT_TRUE(adj[at].contains(v));
        at = v;
      }
      EXPECT_EQ(at, to);
    }
  }
}

TEST(TokenTasks, SeedsReproduceAndHeldOutNeverMeetsTraining) {
  struct Case {
    std::string name;
    int64_t vocab, pairs, length;
  };
  // Lengths with small instance spaces, so that unpartitioned draws would collide.
  for (const Case& c : {Case{"mqar", 8, 1, 3}, Case{"parity", 0, 0, 6}, Case{"modular_arithmetic", 0, 0, 2},
                        Case{"reverse_string", 0, 0, 6}, Case{"duplicate_string", 0, 0, 5},
                        Case{"bucket_sort", 0, 0, 3}, Case{"graph_shortest_path", 0, 0, 3}}) {
    auto t = token_task(c.name, c.vocab, c.pairs);
    Generator g1(21), g2(21), g3(22);
    Batch a = t->sample(g1, 16, c.length, c.length, false), b = t->sample(g2, 16, c.length, c.length, false);
    EXPECT_EQ(a.tokens.to_doubles(), b.tokens.to_doubles()) << c.name;
    EXPECT_EQ(a.targets.to_doubles(), b.targets.to_doubles()) << c.name;
    EXPECT_NE(a.tokens.to_doubles(), t->sample(g3, 16, c.length, c.length, false).tokens.to_doubles()) << c.name;
    std::set<std::vector<int64_t>> train, held;
    for (int k = 0; k < 20; ++k) {
      for (bool h : {false, true}) {
        Batch x = t->sample(g1, 16, c.length, c.length, h);
        for (int64_t e = 0; e < 16; ++e) {
          std::vector<int64_t> seq = row(x.tokens, e), y = row(x.targets, e);
          seq.insert(seq.end(), y.begin(), y.end());
          (h ? held : train).insert(seq);
        }
      }
    }
    EXPECT_GT(held.size(), 1u) << c.name;
    EXPECT_GT(train.size(), 1u) << c.name;
    for (const auto& s : held) EXPECT_FALSE(train.contains(s)) << c.name << ": a held-out instance was trained on";
  }
}

// logits [B, T, V] whose argmax at (b, t) is choice[b][t].
Tensor logits_choosing(const std::vector<std::vector<int64_t>>& choice, int64_t V) {
  const int64_t B = static_cast<int64_t>(choice.size()), T = static_cast<int64_t>(choice[0].size());
  Tensor l = Tensor::zeros({B, T, V});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) l.data<float>()[(b * T + t) * V + choice[b][t]] = 5.0f;
  return l;
}

Batch hand_batch(const std::vector<std::vector<int64_t>>& targets, const std::vector<std::string>& groups) {
  const int64_t B = static_cast<int64_t>(targets.size()), T = static_cast<int64_t>(targets[0].size());
  Batch b;
  b.tokens = Tensor::zeros({B, T}, DType::I64);
  b.targets = Tensor::zeros({B, T}, DType::I64);
  for (int64_t e = 0; e < B; ++e)
    for (int64_t t = 0; t < T; ++t) b.targets.data<int64_t>()[e * T + t] = targets[e][t];
  b.groups = groups;
  return b;
}

TEST(TokenScoring, HandMadeOutputsScoreAsCounted) {
  // Three sequences, V = 4; −100 steps are never scored (the output there is deliberately wrong).
  Batch b = hand_batch({{kNot, 1, 2, kNot}, {kNot, 3, kNot, kNot}, {0, 0, 0, 0}}, {"length=4", "length=4", "length=8"});
  auto perfect = tasks::evaluate_outputs(logits_choosing({{3, 1, 2, 3}, {0, 3, 1, 2}, {0, 0, 0, 0}}, 4), b);
  EXPECT_EQ(perfect.at("token_accuracy"), 1.0);
  EXPECT_EQ(perfect.at("seq_accuracy"), 1.0);
  EXPECT_EQ(perfect.at("seq_accuracy[length=4]"), 1.0);
  auto wrong = tasks::evaluate_outputs(logits_choosing({{1, 0, 0, 1}, {3, 0, 3, 3}, {1, 1, 1, 1}}, 4), b);
  EXPECT_EQ(wrong.at("token_accuracy"), 0.0);
  EXPECT_EQ(wrong.at("seq_accuracy[length=8]"), 0.0);
  // Partial: sequence 0 gets 1 of 2, sequence 1 is right, sequence 2 gets 3 of 4.
  auto part = tasks::evaluate_outputs(logits_choosing({{0, 1, 3, 0}, {0, 3, 0, 0}, {0, 0, 2, 0}}, 4), b);
  EXPECT_DOUBLE_EQ(part.at("token_accuracy[length=4]"), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(part.at("seq_accuracy[length=4]"), 0.5);
  EXPECT_DOUBLE_EQ(part.at("token_accuracy[length=8]"), 0.75);
  EXPECT_DOUBLE_EQ(part.at("seq_accuracy[length=8]"), 0.0);
  EXPECT_DOUBLE_EQ(part.at("token_accuracy"), 5.0 / 7.0);
  EXPECT_DOUBLE_EQ(part.at("seq_accuracy"), 1.0 / 3.0);
  EXPECT_EQ(part.at("sequences[length=4]"), 2.0);
  EXPECT_FALSE(part.contains("mean_error")) << "not bAbI groups";
  EXPECT_THROW(tasks::evaluate_outputs(logits_choosing({{0, 0, 0}}, 4), b), Error);  // shape mismatch
}

TEST(TokenScoring, BabiGroupsGetTheDncMeasure) {
  // qa1: 2 of 2 right (error 0); qa2: 1 of 2 right (error 0.5); qa3: 19 of 20 right (error 0.05,
  // not a failure: the threshold is error > 5%).
  std::vector<std::vector<int64_t>> targets, choice;
  std::vector<std::string> groups;
  auto add = [&](const std::string& g, bool right) {
    targets.push_back({kNot, 2});
    choice.push_back({0, right ? 2 : 1});
    groups.push_back(g);
  };
  add("qa1", true), add("qa1", true), add("qa2", true), add("qa2", false);
  for (int i = 0; i < 20; ++i) add("qa3", i != 7);
  auto m = tasks::evaluate_outputs(logits_choosing(choice, 3), hand_batch(targets, groups));
  EXPECT_DOUBLE_EQ(m.at("seq_accuracy[qa2]"), 0.5);
  EXPECT_DOUBLE_EQ(m.at("seq_accuracy[qa3]"), 0.95);
  EXPECT_NEAR(m.at("mean_error"), (0.0 + 0.5 + 0.05) / 3.0, 1e-12);
  EXPECT_EQ(m.at("failed_tasks"), 1.0);
}

TEST(TokenScoring, MaskedLossIsTheMeanOverScoredSteps) {
  auto t = token_task("parity");
  Generator g(2);
  Batch b = t->sample(g, 5, 3, 9, false);
  const int64_t B = b.targets.size(0), T = b.targets.size(1), V = t->output_size();
  Tensor logits = Tensor::empty({B, T, V});
  g.fill_normal(logits, 0.0, 2.0);
  double sum = 0;
  int64_t scored = 0;
  for (int64_t r = 0; r < B * T; ++r) {
    int64_t want = b.targets.data<int64_t>()[r];
    if (want == kNot) continue;
    const float* x = logits.data<float>() + r * V;
    double z = 0;
    for (int64_t c = 0; c < V; ++c) z += std::exp(static_cast<double>(x[c]));
    sum += std::log(z) - x[want];
    ++scored;
  }
  EXPECT_EQ(scored, B) << "parity scores one step per sequence";
  double loss = tasks::task_loss(tasks::TaskKind::Tokens, logits, b).item();
  EXPECT_NEAR(loss, sum / static_cast<double>(scored), 1e-5);
  auto m = tasks::task_metrics(tasks::TaskKind::Tokens, logits, b, loss);
  EXPECT_EQ(m.at("token_accuracy"), tasks::evaluate_outputs(logits, b).at("token_accuracy"));
  EXPECT_FALSE(m.contains("bits_per_char")) << "bits per character is char_lm's";
  EXPECT_EQ(tasks::headline_metric(*t), "token_accuracy");
}

// The config error message of a training config, or "" when it resolves.
std::string config_error(const nlohmann::json& j) {
  try {
    train::TrainConfig c = train::TrainConfig::from_json(j, "test.json");
    c.resolve();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(TokenTasks, BadTaskConfigValuesAreRefusedWithTheirKey) {
  EXPECT_EQ(config_error({{"task", "mqar"}, {"model", "lstm"}}), "");
  EXPECT_NE(config_error({{"task", "mqar"}, {"max_length", 8}, {"min_length", 8}, {"num_pairs", 4}}).find("key 'min_length'"),
            std::string::npos);
  EXPECT_NE(config_error({{"task", "mqar"}, {"eval_lengths", {64, 20}}, {"num_pairs", 8}}).find("key 'eval_lengths'"),
            std::string::npos);
  EXPECT_NE(config_error({{"task", "mqar"}, {"vocab_size", 8}, {"num_pairs", 4}, {"max_length", 64}}).find("vocab_size"),
            std::string::npos);
  EXPECT_NE(config_error({{"task", "graph_shortest_path"}, {"max_length", 65}}).find("key 'max_length'"),
            std::string::npos);
  EXPECT_NE(config_error({{"task", "modular_arithmetic"}, {"modulus", 1}}).find("key 'modulus'"), std::string::npos);
  EXPECT_NE(config_error({{"task", "parityy"}}).find("key 'task'"), std::string::npos);
  for (const auto& name : tasks::task_names()) EXPECT_EQ(config_error({{"task", name}, {"model", name == "reverse" || name == "sort" || name == "addition" ? "encoder_decoder" : "lstm"}}), "") << name;
}

}  // namespace
}  // namespace sdnc
