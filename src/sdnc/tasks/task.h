// task.h — the training tasks, generated on the fly from the seeded RNG (or, for language
// modelling, cut from a text file). A task draws batches; the objective (objective.h) turns
// a model's logits and a batch into a loss and metrics.
//
// Three kinds of batch (legend: B batch, T time, X input width, Y output width, S source
// length, V vocabulary):
//   Bits    (copy, repeat_copy, associative_recall): inputs F32 [B, T, X], targets F32
//           [B, T, Y] (bits in {0, 1}), mask F32 [B, T] (1 where the output is scored;
//           sequences shorter than T are zero-padded with mask 0)
//   Tokens  (char_lm): tokens I64 [B, T] (bytes), targets I64 [B, T] (the next byte)
//           (mqar, parity, modular_arithmetic, reverse_string, duplicate_string, bucket_sort,
//           babi, graph_shortest_path): tokens I64 [B, T], targets I64 [B, T] with −100 where
//           a step is not scored, groups (one evaluation group per sequence; token_batch.h)
//           — the layout of each is in its file's header and in docs/tasks.md
//   Seq2Seq (reverse, sort, addition): src I64 [B, S], tgt I64 [B, T] (BOS + answer),
//           targets I64 [B, T] (answer + EOS; −100 = padding, not scored); pad id 0
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sdnc/core/rng.h"
#include "sdnc/core/tensor.h"

namespace sdnc::tasks {

enum class TaskKind { Bits, Tokens, Seq2Seq };

struct Batch {
  Tensor inputs, targets, mask;  // Bits (targets also for Tokens / Seq2Seq, as I64)
  Tensor tokens;                 // Tokens
  Tensor src, tgt;               // Seq2Seq
  std::vector<std::string> groups;  // token tasks: the evaluation group of each sequence (B)
};

// The sizes and lengths a task is drawn with; each task reads the keys it uses.
struct TaskConfig {
  std::string name;
  int64_t num_bits = 6;                  // bit tasks
  int64_t min_repeats = 1, max_repeats = 2;  // repeat_copy
  int64_t item_length = 3;               // associative_recall: rows per item
  int64_t num_symbols = 10;              // reverse / sort: alphabet size
  std::string corpus;                    // char_lm: path of a text file
  double held_out_fraction = 0.05;       // char_lm: the file's tail kept for evaluation
  int64_t vocab_size = 8192;             // mqar: V token ids (keys [1, V/2), values [V/2, V))
  int64_t num_pairs = 0;                 // mqar: key-value pairs (0: length / 16, at least 1)
  int64_t modulus = 5;                   // modular_arithmetic
  std::string babi_dir;                  // babi: folder of the qa*_train.txt / qa*_test.txt files
};

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;
  virtual TaskKind kind() const = 0;
  // Bits: X and Y; Tokens / Seq2Seq: the vocabulary size V for both.
  virtual int64_t input_size() const = 0;
  virtual int64_t output_size() const = 0;
  // A batch whose sequences have task lengths drawn uniformly from [min_length, max_length]
  // (the length is the task's own unit: bit rows for copy, items for associative recall,
  // digits for addition, characters of context for char_lm). held_out: evaluation data (the
  // held-out tail of a corpus; the generated tasks use the generator they are given).
  virtual Batch sample(Generator& g, int64_t batch, int64_t min_length, int64_t max_length, bool held_out) const = 0;
  // The most time steps (for Seq2Seq: target positions) a sequence of task length L takes.
  virtual int64_t max_steps(int64_t length) const = 0;
  // Seq2Seq only: the most source positions at task length L.
  virtual int64_t max_source_steps(int64_t length) const { return max_steps(length); }
};

// The task names: copy, repeat_copy, associative_recall, char_lm, reverse, sort, addition,
// mqar, parity, modular_arithmetic, reverse_string, duplicate_string, bucket_sort, babi,
// graph_shortest_path.
const std::vector<std::string>& task_names();
// Throws "[task] ..." for an unknown name, a missing or unreadable corpus, or bad sizes.
std::unique_ptr<Task> make_task(const TaskConfig& config);

// Shared helpers of the bit tasks: zero-filled [B, T, X] / [B, T, Y] / [B, T] tensors.
Batch empty_bit_batch(int64_t B, int64_t T, int64_t X, int64_t Y);
// Fills `rows` rows of bits at time `t0` of batch element b (channels [0, num_bits)).
void fill_random_bits(Generator& g, float* rows, int64_t count, int64_t stride, int64_t num_bits);

}  // namespace sdnc::tasks
