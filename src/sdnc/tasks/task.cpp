#include "sdnc/tasks/task.h"

#include "sdnc/core/error.h"

namespace sdnc::tasks {

std::unique_ptr<Task> make_copy_task(const TaskConfig& c);
std::unique_ptr<Task> make_repeat_copy_task(const TaskConfig& c);
std::unique_ptr<Task> make_associative_recall_task(const TaskConfig& c);
std::unique_ptr<Task> make_char_lm_task(const TaskConfig& c);
std::unique_ptr<Task> make_seq2seq_task(const TaskConfig& c);
std::unique_ptr<Task> make_mqar_task(const TaskConfig& c);
std::unique_ptr<Task> make_parity_task(const TaskConfig& c);
std::unique_ptr<Task> make_modular_arithmetic_task(const TaskConfig& c);
std::unique_ptr<Task> make_reverse_string_task(const TaskConfig& c);
std::unique_ptr<Task> make_duplicate_string_task(const TaskConfig& c);
std::unique_ptr<Task> make_bucket_sort_task(const TaskConfig& c);
std::unique_ptr<Task> make_babi_task(const TaskConfig& c);
std::unique_ptr<Task> make_graph_shortest_path_task(const TaskConfig& c);

const std::vector<std::string>& task_names() {
  static const std::vector<std::string> names = {
      "copy",           "repeat_copy",      "associative_recall", "char_lm",     "reverse",
      "sort",           "addition",         "mqar",               "parity",      "modular_arithmetic",
      "reverse_string", "duplicate_string", "bucket_sort",        "babi",        "graph_shortest_path"};
  return names;
}

std::unique_ptr<Task> make_task(const TaskConfig& c) {
  if (c.num_bits < 1) fail("task", "num_bits must be >= 1, got {}", c.num_bits);
  if (c.name == "copy") return make_copy_task(c);
  if (c.name == "repeat_copy") return make_repeat_copy_task(c);
  if (c.name == "associative_recall") return make_associative_recall_task(c);
  if (c.name == "char_lm") return make_char_lm_task(c);
  if (c.name == "reverse" || c.name == "sort" || c.name == "addition") return make_seq2seq_task(c);
  if (c.name == "mqar") return make_mqar_task(c);
  if (c.name == "parity") return make_parity_task(c);
  if (c.name == "modular_arithmetic") return make_modular_arithmetic_task(c);
  if (c.name == "reverse_string") return make_reverse_string_task(c);
  if (c.name == "duplicate_string") return make_duplicate_string_task(c);
  if (c.name == "bucket_sort") return make_bucket_sort_task(c);
  if (c.name == "babi") return make_babi_task(c);
  if (c.name == "graph_shortest_path") return make_graph_shortest_path_task(c);
  std::string list;
  for (auto& n : task_names()) list += (list.empty() ? "" : ", ") + n;
  fail("task", "unknown task '{}' (expected one of: {})", c.name, list);
}

Batch empty_bit_batch(int64_t B, int64_t T, int64_t X, int64_t Y) {
  return {Tensor::zeros({B, T, X}), Tensor::zeros({B, T, Y}), Tensor::zeros({B, T}), {}, {}, {}, {}};
}

void fill_random_bits(Generator& g, float* rows, int64_t count, int64_t stride, int64_t num_bits) {
  for (int64_t r = 0; r < count; ++r)
    for (int64_t i = 0; i < num_bits; ++i) rows[r * stride + i] = g.uniform() < 0.5 ? 0.0f : 1.0f;
}

}  // namespace sdnc::tasks
