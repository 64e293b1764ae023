// sdnc study's library (src/sdnc/study): the accuracy a study reports is the task metric
// computed directly on hand-made logits; the time to 99% and the final evaluations are read
// from a run's metrics as written; table.md's mean ± std equals the direct computation; every
// bad grid (unknown dial value, key or task, zero seeds, budget <= 0, duplicate names, a dial
// combination the machine refuses) fails in parse_grid naming the entry; the default grid
// expands to its 7 machines × 3 tasks × 2 seeds, the bounded Transformer at N = ⌈T/2⌉.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "common/expect_error.h"
#include "sdnc/study/grid.h"
#include "sdnc/study/results.h"
#include "sdnc/tasks/task.h"

namespace sdnc {
namespace {

using nlohmann::json;

TEST(Study, AccuracyIsTheTaskMetricOnHandMadeLogits) {
  // B = 4 sequences, T = 3 steps, 2 bits; step 0 unscored (mask 0).
  tasks::Batch b = tasks::empty_bit_batch(4, 3, 2, 2);
  const std::vector<float> targets = {0, 0, 1, 0, 0, 1,  0, 0, 1, 1, 1, 1,  1, 1, 0, 0, 0, 0,  0, 0, 1, 0, 1, 0};
  const std::vector<float> logits = {
      5, 5, 2, -1, -3, 4,     // seq 0: step 0 wrong but unscored; steps 1, 2 right → perfect
      0, 0, 1, 1, 1, -1,      // seq 1: step 2 bit 1 wrong
      1, 1, -2, -2, -1, -1,   // seq 2: right → perfect
      -1, -1, -2, -1, 3, -1}; // seq 3: step 1 bit 0 wrong
  std::copy(targets.begin(), targets.end(), b.targets.data<float>());
  for (int64_t s = 0; s < 4; ++s) b.mask.data<float>()[s * 3] = 0, b.mask.data<float>()[s * 3 + 1] = 1,
                                   b.mask.data<float>()[s * 3 + 2] = 1;
  Tensor x = Tensor::from_vector(logits, {4, 3, 2});
  tasks::Metrics m = tasks::task_metrics(tasks::TaskKind::Bits, x, b, 0.0);
  ASSERT_EQ(study::accuracy_metric(m), "seq_accuracy");
  EXPECT_DOUBLE_EQ(m.at("seq_accuracy"), 2.0 / 4.0);  // sequences 0 and 2, counted by hand above
  EXPECT_EQ(study::accuracy_metric({{"accuracy", 0.5}, {"loss", 1.0}}), "accuracy");
  // token tasks (mqar, the formal languages): the fraction of answer tokens right, as Zoology and
  // Delétang et al. report, before the all-answers-right sequence accuracy
  EXPECT_EQ(study::accuracy_metric({{"token_accuracy", 0.5}, {"seq_accuracy", 0.0}}), "token_accuracy");
  EXPECT_OP_ERROR(study::accuracy_metric({{"loss", 1.0}}), "[study]", "neither");
}

std::string write_file(const std::string& name, const std::string& text) {
  std::string path = (std::filesystem::temp_directory_path() / name).string();
  std::ofstream(path) << text;
  return path;
}

TEST(Study, RunLogGivesFinalEvalsAndTheTimeTo99) {
  const std::string path = write_file("study_run_log.jsonl",
      "{\"step\":10,\"loss\":4.0,\"elapsed_s\":1.5}\n"
      "{\"step\":10,\"eval_length\":5,\"eval\":{\"seq_accuracy\":0.5,\"loss\":1}}\n"
      "{\"step\":10,\"eval_length\":10,\"eval\":{\"seq_accuracy\":0.995,\"loss\":1}}\n"
      "{\"step\":20,\"loss\":2.0,\"elapsed_s\":3.25}\n"
      "{\"step\":20,\"eval_length\":5,\"eval\":{\"seq_accuracy\":0.99,\"loss\":1}}\n"
      "{\"step\":20,\"eval_length\":10,\"eval\":{\"seq_accuracy\":0.25,\"loss\":1}}\n"
      "{\"step\":30,\"loss\":1.0,\"elapsed_s\":4.0}\n"
      "{\"step\":30,\"eval_length\":5,\"eval\":{\"seq_accuracy\":0.75,\"loss\":1}}\n"
      "{\"step\":30,\"eval_length\":10,\"eval\":{\"seq_accuracy\":0.0,\"loss\":1}}\n");
  study::RunLog log = study::read_run_log(path);
  EXPECT_EQ(log.last_step, 30);
  EXPECT_DOUBLE_EQ(log.train_seconds, 4.0);
  EXPECT_DOUBLE_EQ(log.final_evals.at(5).at("seq_accuracy"), 0.75);
  EXPECT_DOUBLE_EQ(log.final_evals.at(10).at("seq_accuracy"), 0.0);
  ASSERT_TRUE(log.seconds_to(0.99, 5).has_value());
  EXPECT_DOUBLE_EQ(*log.seconds_to(0.99, 5), 3.25);   // first reached at step 20
  EXPECT_DOUBLE_EQ(*log.seconds_to(0.99, 10), 1.5);   // at step 10, lost later: still the first time
  EXPECT_FALSE(log.seconds_to(0.999, 5).has_value());
  ASSERT_EQ(log.loss_curve.size(), 3u);
  EXPECT_DOUBLE_EQ(log.loss_curve[1][0], 3.25);
  EXPECT_DOUBLE_EQ(log.loss_curve[1][1], 2.0);
  const std::string bad = write_file("study_bad_log.jsonl", "{\"step\":1}\nnot json\n");
  EXPECT_OP_ERROR(study::read_run_log(bad), "[study]", ":2: not a JSON object");
}

json tiny_grid() {
  return {{"machines", json::array({{{"name", "t"}, {"model", "machine"}, {"controller", "stateless"},
                                     {"write", "append"}, {"similarity", "dot"}, {"read_modes", "content"},
                                     {"key_value", "separate"}, {"d_model", 8}, {"d_ffn", 8}, {"read_heads", 2},
                                     {"word_size", 4}}})},
          {"tasks", json::array({json{{"task", "copy"}, {"max_length", 3}}})},
          {"seeds", 2},
          {"budget", {{"steps", 5}}}};
}

TEST(Study, TableIsTheMeanAndSampleStdOverSeeds) {
  study::Grid grid = study::parse_grid(tiny_grid(), "grid.json");
  ASSERT_EQ(grid.runs.size(), 2u);
  EXPECT_EQ(grid.runs[0].lengths, (std::vector<int64_t>{3, 6, 12}));
  std::vector<json> results;
  const double acc[2][3] = {{1.0, 0.5, 0.0}, {0.5, 0.25, 0.0}};
  for (int s = 0; s < 2; ++s)
    results.push_back({{"id", grid.runs[s].id}, {"machine", "t"}, {"task", "copy"}, {"params", 123},
                       {"steps", 5}, {"train_seconds", 2.0 + s}, {"cpu_seconds", 3.0 + 2 * s},
                       {"metric", "seq_accuracy"}, {"seconds_to_99", s == 0 ? json(1.5) : json()},
                       {"accuracy", {{"3", acc[s][0]}, {"6", acc[s][1]}, {"12", acc[s][2]}}}});
  const std::string md = study::results_table(grid, results);
  // mean and sample std by hand: (100, 50) → 75 ± 35.36; (50, 25) → 37.5 ± 17.68; (0, 0) → 0 ± 0
  // CPU seconds: (3, 5) → 4
  EXPECT_NE(md.find("| t | 123 | 5 | 2 | 4 | 75.0 ± 35.4 | 37.5 ± 17.7 | 0.0 ± 0.0 | 1/2 | 2 |"), std::string::npos) << md;
  EXPECT_NE(md.find("### copy (seq_accuracy)"), std::string::npos) << md;
  study::MeanStd m = study::mean_std({1, 2, 3, 4});
  EXPECT_DOUBLE_EQ(m.mean, 2.5);
  EXPECT_NEAR(m.std, std::sqrt(5.0 / 3.0), 1e-12);
  EXPECT_EQ(study::mean_std({7}).std, 0.0);
}

void expect_bad(const std::function<void(json&)>& edit, const std::string& part) {
  json g = tiny_grid();
  edit(g);
  try {
    study::parse_grid(g, "grid.json");
    ADD_FAILURE() << "expected the grid to be refused (" << part << ")";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("grid.json"), std::string::npos) << m;
    EXPECT_NE(m.find(part), std::string::npos) << m << " (expected to mention " << part << ")";
  }
}

TEST(Study, BadGridsAreRefusedNamingTheEntry) {
  expect_bad([](json& g) { g["machines"][0]["controller"] = "gru"; }, "machines[0] (\"t\")");
  expect_bad([](json& g) { g["machines"][0]["controller"] = "gru"; }, "must be one of stateless, lstm, feedforward");
  expect_bad([](json& g) { g["machines"][0]["contoller"] = "lstm"; }, "unknown key 'contoller' (did you mean 'controller'?)");
  expect_bad([](json& g) { g["tasks"] = json::array({"cpy"}); }, "tasks[0]: unknown task 'cpy' (did you mean 'copy'?)");
  expect_bad([](json& g) { g["seeds"] = 0; }, "key 'seeds' must be >= 1");
  expect_bad([](json& g) { g["seeds"] = json::array(); }, "key 'seeds' is empty");
  expect_bad([](json& g) { g["seeds"] = json::array({1, 1}); }, "seed 1 twice");
  expect_bad([](json& g) { g["budget"] = {{"steps", 0}}; }, "budget 'steps' must be a positive integer");
  expect_bad([](json& g) { g["budget"] = {{"seconds", -1}}; }, "budget 'seconds' must be a number > 0");
  expect_bad([](json& g) { g["budget"] = {{"steps", 5}, {"seconds", 1}}; }, "key 'budget' must be");
  expect_bad([](json& g) { g["machines"].push_back(g["machines"][0]); }, "machine name 't' is used twice");
  expect_bad([](json& g) { g["machines"] = json::array(); }, "key 'machines' must be a non-empty list");
  expect_bad([](json& g) { g["machines"][0].erase("name"); }, "machines[0]: a machine is an object with a \"name\"");
  expect_bad([](json& g) { g["machines"][0]["seed"] = 3; }, "key 'seed' is set by the study");
  expect_bad([](json& g) { g["machines"][0]["write"] = "allocate"; }, "memory_slots");  // the machine refuses
  expect_bad([](json& g) { g["machines"][0]["memory_slots_per_step"] = 2; }, "'memory_slots_per_step' must be");
  expect_bad([](json& g) { g["sedes"] = 2; }, "unknown key 'sedes' (did you mean 'seeds'?)");
  expect_bad([](json& g) { g["tasks"] = json::array({json{{"task", "copy"}, {"max_lenght", 3}}}); },
             "unknown key 'max_lenght'");
}

TEST(Study, DefaultGridIsTheCornersAndTheFiveHybrids) {
  study::Grid grid = study::parse_grid(study::default_grid(), "default grid");
  EXPECT_EQ(grid.machines, (std::vector<std::string>{"transformer", "dnc", "lstm_append", "stateless_links",
                                                     "bounded_transformer", "cosine_transformer", "dnc_separate_kv"}));
  EXPECT_EQ(grid.tasks, (std::vector<std::string>{"copy", "repeat_copy", "associative_recall", "mqar", "parity",
                                                  "reverse_string"}));
  EXPECT_EQ(grid.runs.size(), 7u * 6u * 2u);
  // the token tasks' own budgets and evaluation spacing; the bit tasks keep the grid's
  const std::set<std::string> token_tasks = {"mqar", "parity", "reverse_string"};
  for (const study::RunSpec& r : grid.runs) {
    const bool token = token_tasks.contains(r.task);
    EXPECT_EQ(r.config.at("steps").get<int64_t>(), token ? 1000 : 1500) << r.id;
    EXPECT_EQ(r.config.at("eval_every").get<int64_t>(), token ? 250 : 100) << r.id;
  }
  // N = ⌈T/2⌉ with T the steps at the training length, counted from docs/tasks.md's layouts:
  // mqar L = 64 steps; parity 40 bits + 1 answer cue; reverse_string 40 bits + 40 cues
  const std::map<std::string, int64_t> token_slots = {{"mqar", 32}, {"parity", 21}, {"reverse_string", 40}};
  for (const study::RunSpec& r : grid.runs) {
    if (r.machine != "bounded_transformer") continue;
    if (token_tasks.contains(r.task)) {
      EXPECT_EQ(r.config.at("memory_slots").get<int64_t>(), token_slots.at(r.task)) << r.id;
      continue;
    }
    tasks::TaskConfig tc;
    tc.name = r.task;
    tc.num_bits = r.config.at("num_bits").get<int64_t>();
    const int64_t T = tasks::make_task(tc)->max_steps(r.lengths[0]);
    EXPECT_EQ(r.config.at("memory_slots").get<int64_t>(), (T + 1) / 2) << r.id;  // ⌈T/2⌉
  }
}

}  // namespace
}  // namespace sdnc
