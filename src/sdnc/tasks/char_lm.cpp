// char_lm.cpp — character-level language modelling on a text file: the vocabulary is the 256
// byte values; a batch is B windows of L + 1 consecutive bytes at random offsets (tokens =
// the first L, targets = the last L). The file's last held_out_fraction is kept for
// evaluation and never trained on.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sdnc/core/error.h"
#include "sdnc/tasks/task.h"

namespace sdnc::tasks {

namespace {

class CharLmTask : public Task {
 public:
  explicit CharLmTask(const TaskConfig& c) : path_(c.corpus) {
    if (path_.empty()) fail("task", "char_lm needs a corpus file (key 'corpus')");
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path_, ec))
      fail("task", "corpus {}: no such file{}", path_,
           path_.ends_with("data/kjv.txt") ? " (scripts/setup.sh writes it from Debian's bible-kjv-text)" : "");
    std::ifstream in(path_, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in) fail("task", "corpus {}: cannot read", path_);
    text_ = ss.str();
    if (!(c.held_out_fraction > 0 && c.held_out_fraction < 1))
      fail("task", "held_out_fraction must lie in (0, 1), got {}", c.held_out_fraction);
    split_ = static_cast<int64_t>(static_cast<double>(text_.size()) * (1.0 - c.held_out_fraction));
  }
  std::string name() const override { return "char_lm"; }
  TaskKind kind() const override { return TaskKind::Tokens; }
  int64_t input_size() const override { return 256; }
  int64_t output_size() const override { return 256; }
  int64_t max_steps(int64_t L) const override { return L; }

  Batch sample(Generator& g, int64_t B, int64_t, int64_t L, bool held_out) const override {
    int64_t begin = held_out ? split_ : 0, end = held_out ? static_cast<int64_t>(text_.size()) : split_;
    if (end - begin < L + 1)
      fail("task", "corpus {}: its {} part has {} bytes, fewer than a window of {}", path_,
           held_out ? "held-out" : "training", end - begin, L + 1);
    Batch b;
    b.tokens = Tensor::empty({B, L}, DType::I64);
    b.targets = Tensor::empty({B, L}, DType::I64);
    for (int64_t e = 0; e < B; ++e) {
      int64_t at = g.randint(begin, end - L);
      for (int64_t t = 0; t < L; ++t) {
        b.tokens.data<int64_t>()[e * L + t] = static_cast<unsigned char>(text_[at + t]);
        b.targets.data<int64_t>()[e * L + t] = static_cast<unsigned char>(text_[at + t + 1]);
      }
    }
    return b;
  }

 private:
  std::string path_, text_;
  int64_t split_ = 0;
};

}  // namespace

std::unique_ptr<Task> make_char_lm_task(const TaskConfig& c) { return std::make_unique<CharLmTask>(c); }

}  // namespace sdnc::tasks
