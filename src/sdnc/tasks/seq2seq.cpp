// seq2seq.cpp — sequence-to-sequence tasks for the encoder-decoder, over a small vocabulary:
//   0 PAD, 1 BOS, 2 EOS, 3 '+', 4.. symbols (digits 0–9 are symbols 4..13)
//   reverse  : src = L random symbols          → answer = src reversed
//   sort     : src = L random symbols          → answer = src sorted ascending
//   addition : src = a '+' b, a and b with L digits each (most significant first, no leading
//              zero) → answer = the digits of a + b
// tgt = [BOS, answer], targets = [answer, EOS]; sequences are padded with PAD in src and tgt
// and −100 in targets. The task length L is the number of symbols (digits per number).
#include <algorithm>

#include "sdnc/core/error.h"
#include "sdnc/tasks/task.h"

namespace sdnc::tasks {

namespace {

constexpr int64_t kPad = 0, kBos = 1, kEos = 2, kPlus = 3, kFirstSymbol = 4, kIgnore = -100;

class Seq2SeqTask : public Task {
 public:
  explicit Seq2SeqTask(const TaskConfig& c) : name_(c.name), symbols_(c.name == "addition" ? 10 : c.num_symbols) {
    if (symbols_ < 2) fail("task", "{} needs num_symbols >= 2, got {}", name_, symbols_);
  }
  std::string name() const override { return name_; }
  TaskKind kind() const override { return TaskKind::Seq2Seq; }
  int64_t input_size() const override { return kFirstSymbol + symbols_; }
  int64_t output_size() const override { return input_size(); }
  // Target positions: BOS/EOS + answer (addition: up to L + 1 digits).
  int64_t max_steps(int64_t L) const override { return (name_ == "addition" ? L + 1 : L) + 1; }
  int64_t max_source_steps(int64_t L) const override { return name_ == "addition" ? 2 * L + 1 : L; }

  Batch sample(Generator& g, int64_t B, int64_t min_len, int64_t max_len, bool) const override {
    std::vector<std::vector<int64_t>> srcs(B), answers(B);
    int64_t S = 1, T = 1;
    for (int64_t e = 0; e < B; ++e) {
      int64_t L = g.randint(min_len, max_len + 1);
      if (name_ == "addition") addition(g, L, srcs[e], answers[e]);
      else {
        for (int64_t i = 0; i < L; ++i) srcs[e].push_back(kFirstSymbol + g.randint(0, symbols_));
        answers[e] = srcs[e];
        if (name_ == "reverse") std::reverse(answers[e].begin(), answers[e].end());
        else std::sort(answers[e].begin(), answers[e].end());
      }
      S = std::max<int64_t>(S, static_cast<int64_t>(srcs[e].size()));
      T = std::max<int64_t>(T, static_cast<int64_t>(answers[e].size()) + 1);
    }
    Batch b;
    b.src = Tensor::full({B, S}, kPad, DType::I64);
    b.tgt = Tensor::full({B, T}, kPad, DType::I64);
    b.targets = Tensor::full({B, T}, kIgnore, DType::I64);
    for (int64_t e = 0; e < B; ++e) {
      for (size_t i = 0; i < srcs[e].size(); ++i) b.src.data<int64_t>()[e * S + i] = srcs[e][i];
      int64_t* tgt = b.tgt.data<int64_t>() + e * T;
      int64_t* out = b.targets.data<int64_t>() + e * T;
      tgt[0] = kBos;
      for (size_t i = 0; i < answers[e].size(); ++i) tgt[i + 1] = out[i] = answers[e][i];
      out[answers[e].size()] = kEos;
    }
    return b;
  }

 private:
  // Two L-digit numbers (no leading zero unless L = 1) and their sum, as symbol ids.
  void addition(Generator& g, int64_t L, std::vector<int64_t>& src, std::vector<int64_t>& answer) const {
    std::vector<int64_t> a(L), b(L);
    for (auto* n : {&a, &b}) {
      for (int64_t i = 0; i < L; ++i) (*n)[i] = g.randint(i == 0 && L > 1 ? 1 : 0, 10);
      for (int64_t d : *n) src.push_back(kFirstSymbol + d);
      if (n == &a) src.push_back(kPlus);
    }
    std::vector<int64_t> sum;  // least significant first
    int64_t carry = 0;
    for (int64_t i = L - 1; i >= 0; --i) {
      int64_t s = a[i] + b[i] + carry;
      sum.push_back(s % 10);
      carry = s / 10;
    }
    if (carry) sum.push_back(carry);
    for (auto it = sum.rbegin(); it != sum.rend(); ++it) answer.push_back(kFirstSymbol + *it);
  }

  std::string name_;
  int64_t symbols_;
};

}  // namespace

std::unique_ptr<Task> make_seq2seq_task(const TaskConfig& c) { return std::make_unique<Seq2SeqTask>(c); }

}  // namespace sdnc::tasks
