// The tasks' layouts, checked as properties of every sampled sequence (not against stored
// batches): repeat-copy as /work/shared/DNC.md B.1 lays it out, copy, associative recall,
// the seq2seq tasks (decoded and recomputed), char_lm windows and the held-out split; and the
// objective's loss and bit errors against direct computations.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "sdnc/sdnc.h"
#include "sdnc/tasks/objective.h"
#include "sdnc/tasks/task.h"

namespace sdnc {
namespace {

using tasks::Batch;

std::unique_ptr<tasks::Task> task(const std::string& name, int64_t bits = 4) {
  tasks::TaskConfig c;
  c.name = name;
  c.num_bits = bits;
  return tasks::make_task(c);
}

float at(const Tensor& t, int64_t b, int64_t r, int64_t i) {
  return t.data<float>()[(b * t.size(1) + r) * t.size(2) + i];
}

TEST(Tasks, RepeatCopyHasTheReferenceLayout) {
  auto t = task("repeat_copy", 4);
  ASSERT_EQ(t->input_size(), 6);
  ASSERT_EQ(t->output_size(), 5);
  Generator g(3);
  Batch b = t->sample(g, 32, 1, 3, false);
  int64_t T = b.inputs.size(1);
  for (int64_t e = 0; e < 32; ++e) {
    EXPECT_EQ(at(b.inputs, e, 0, 4), 1.0f);  // start flag
    int64_t L = 0;                           // pattern rows until the repeat-count row
    while (at(b.inputs, e, 1 + L, 5) == 0.0f) ++L;
    int64_t k = std::lround(at(b.inputs, e, 1 + L, 5) * 10.0f);
    ASSERT_GE(L, 1);
    ASSERT_LE(L, 3);
    ASSERT_GE(k, 1);
    ASSERT_LE(k, 2);
    ASSERT_LE(L * (k + 1) + 3, T);
    double mask_sum = 0;
    for (int64_t r = 0; r < T; ++r) mask_sum += b.mask.data<float>()[e * T + r];
    EXPECT_EQ(mask_sum, static_cast<double>(L * k + 1));
    for (int64_t r = 0; r < L + 2; ++r) EXPECT_EQ(b.mask.data<float>()[e * T + r], 0.0f);
    for (int64_t rep = 0; rep < k; ++rep)
      for (int64_t r = 0; r < L; ++r)
        for (int64_t i = 0; i < 4; ++i)
          EXPECT_EQ(at(b.targets, e, L + 2 + rep * L + r, i), at(b.inputs, e, 1 + r, i));
    EXPECT_EQ(at(b.targets, e, L + 2 + L * k, 4), 1.0f);  // end flag
    for (int64_t r = L + 2; r < T; ++r)                    // nothing after the repeat count
      for (int64_t i = 0; i < 6; ++i) EXPECT_EQ(at(b.inputs, e, r, i), 0.0f);
  }
}

TEST(Tasks, CopyScoresTheRecalledRows) {
  auto t = task("copy", 5);
  Generator g(4);
  Batch b = t->sample(g, 16, 2, 6, false);
  int64_t T = b.inputs.size(1);
  for (int64_t e = 0; e < 16; ++e) {
    int64_t L = 0;
    while (at(b.inputs, e, L, 5) == 0.0f) ++L;  // the delimiter row
    ASSERT_GE(L, 2);
    ASSERT_LE(L, 6);
    for (int64_t r = 0; r < T; ++r) {
      bool scored = r > L && r <= 2 * L;
      EXPECT_EQ(b.mask.data<float>()[e * T + r], scored ? 1.0f : 0.0f) << e << " " << r;
      if (scored)
        for (int64_t i = 0; i < 5; ++i) EXPECT_EQ(at(b.targets, e, r, i), at(b.inputs, e, r - L - 1, i));
    }
  }
}

TEST(Tasks, AssociativeRecallAnswersTheItemAfterTheQuery) {
  tasks::TaskConfig c;
  c.name = "associative_recall";
  c.num_bits = 6;
  c.item_length = 2;
  auto t = tasks::make_task(c);
  Generator g(5);
  Batch b = t->sample(g, 32, 2, 5, false);
  int64_t T = b.inputs.size(1), S = 3;
  for (int64_t e = 0; e < 32; ++e) {
    int64_t K = 0;
    while (at(b.inputs, e, K * S, 6) == 1.0f) ++K;  // item delimiters
    ASSERT_GE(K, 2);
    ASSERT_EQ(at(b.inputs, e, K * S, 7), 1.0f);     // query delimiter
    auto row_equal = [&](int64_t r1, int64_t r2) {
      for (int64_t i = 0; i < 6; ++i)
        if (at(b.inputs, e, r1, i) != at(b.inputs, e, r2, i)) return false;
      return true;
    };
    int64_t q = -1;
    for (int64_t k = 0; k < K && q < 0; ++k)
      if (row_equal(k * S + 1, K * S + 1) && row_equal(k * S + 2, K * S + 2)) q = k;
    ASSERT_GE(q, 0);
    ASSERT_LT(q, K - 1);
    int64_t answer = K * S + 2 + 2;
    for (int64_t r = 0; r < 2; ++r) {
      EXPECT_EQ(b.mask.data<float>()[e * T + answer + r], 1.0f);
      for (int64_t i = 0; i < 6; ++i) EXPECT_EQ(at(b.targets, e, answer + r, i), at(b.inputs, e, (q + 1) * S + 1 + r, i));
    }
  }
}

// Symbol ids: 0 PAD, 1 BOS, 2 EOS, 3 '+', 4.. digits/symbols.
std::vector<int64_t> row(const Tensor& t, int64_t e) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < t.size(1); ++i) out.push_back(t.data<int64_t>()[e * t.size(1) + i]);
  return out;
}

TEST(Tasks, Seq2SeqAnswersAreRightAndShifted) {
  for (std::string name : {"reverse", "sort", "addition"}) {
    auto t = task(name);
    Generator g(6);
    Batch b = t->sample(g, 32, 1, 4, false);
    for (int64_t e = 0; e < 32; ++e) {
      std::vector<int64_t> src, answer;
      for (int64_t v : row(b.src, e))
        if (v != 0) src.push_back(v);
      auto tgt = row(b.tgt, e), out = row(b.targets, e);
      ASSERT_EQ(tgt[0], 1) << name;  // BOS
      size_t n = 0;
      while (out[n] != 2) answer.push_back(out[n++]);  // up to EOS
      for (size_t i = 0; i < n; ++i) EXPECT_EQ(tgt[i + 1], answer[i]) << name;  // teacher forcing
      for (size_t i = n + 1; i < out.size(); ++i) EXPECT_EQ(out[i], -100) << name;
      if (name == "addition") {
        auto plus = std::find(src.begin(), src.end(), 3);
        ASSERT_NE(plus, src.end());
        auto number = [](auto begin, auto end) {
          int64_t v = 0;
          for (auto it = begin; it != end; ++it) v = v * 10 + (*it - 4);
          return v;
        };
        EXPECT_EQ(number(answer.begin(), answer.end()), number(src.begin(), plus) + number(plus + 1, src.end()));
      } else {
        std::vector<int64_t> want = src;
        if (name == "reverse") std::reverse(want.begin(), want.end());
        else std::sort(want.begin(), want.end());
        EXPECT_EQ(answer, want) << name;
      }
    }
  }
}

TEST(Tasks, CharLmWindowsPredictTheNextByteAndHoldOutTheTail) {
  std::string path = (std::filesystem::temp_directory_path() / fmt::format("sdnc_corpus_{}.txt", getpid())).string();
  {
    std::ofstream f(path);
    for (int i = 0; i < 950; ++i) f << static_cast<char>('a' + i % 7);
    for (int i = 0; i < 50; ++i) f << 'Z';
  }
  tasks::TaskConfig c;
  c.name = "char_lm";
  c.corpus = path;
  auto t = tasks::make_task(c);
  Generator g(7);
  Batch train = t->sample(g, 8, 16, 16, false), held = t->sample(g, 8, 16, 16, true);
  for (int64_t e = 0; e < 8; ++e)
    for (int64_t i = 0; i + 1 < 16; ++i) {
      EXPECT_EQ(train.targets.data<int64_t>()[e * 16 + i], train.tokens.data<int64_t>()[e * 16 + i + 1]);
      EXPECT_NE(train.tokens.data<int64_t>()[e * 16 + i], 'Z');  // never the held-out tail
      EXPECT_EQ(held.tokens.data<int64_t>()[e * 16 + i], 'Z');
    }
  EXPECT_THROW(t->sample(g, 1, 60, 60, true), Error);  // longer than the held-out part
  std::filesystem::remove(path);
  c.corpus = path;
  EXPECT_THROW(tasks::make_task(c), Error);  // missing file
}

TEST(Tasks, BatchesAreAFunctionOfTheGenerator) {
  for (const auto& name : {"copy", "repeat_copy", "associative_recall", "reverse", "addition"}) {
    auto t = task(name);
    Generator g1(11), g2(11);
    Batch a = t->sample(g1, 4, 2, 5, false), b = t->sample(g2, 4, 2, 5, false);
    Tensor x = a.inputs.defined() ? a.inputs : a.src, y = b.inputs.defined() ? b.inputs : b.src;
    EXPECT_EQ(x.to_doubles(), y.to_doubles()) << name;
  }
  tasks::TaskConfig bad;
  bad.name = "copyy";
  EXPECT_THROW(tasks::make_task(bad), Error);
}

TEST(Objective, BitLossAndErrorsMatchADirectComputation) {
  auto t = task("copy", 3);
  Generator g(8);
  Batch b = t->sample(g, 5, 1, 4, false);
  Tensor logits = Tensor::empty(b.targets.shape());
  g.fill_normal(logits, 0.0, 2.0);
  double want = 0.0, errors = 0.0;
  int64_t T = b.targets.size(1);
  for (int64_t e = 0; e < 5; ++e)
    for (int64_t r = 0; r < T; ++r) {
      if (b.mask.data<float>()[e * T + r] == 0) continue;
      for (int64_t i = 0; i < 3; ++i) {
        double x = at(logits, e, r, i), y = at(b.targets, e, r, i);
        want += std::max(x, 0.0) - x * y + std::log1p(std::exp(-std::abs(x)));
        errors += (x > 0) != (y > 0.5);
      }
    }
  double loss = tasks::task_loss(tasks::TaskKind::Bits, logits, b).item();
  EXPECT_NEAR(loss, want / 5.0, 1e-4 * std::max(1.0, want / 5.0));
  auto m = tasks::task_metrics(tasks::TaskKind::Bits, logits, b, loss);
  EXPECT_DOUBLE_EQ(m.at("bit_errors"), errors / 5.0);
  // Perfect logits: no errors, every sequence right.
  Tensor perfect = Tensor::empty(b.targets.shape());
  for (int64_t i = 0; i < perfect.numel(); ++i) perfect.data<float>()[i] = b.targets.data<float>()[i] > 0.5f ? 9.0f : -9.0f;
  auto p = tasks::task_metrics(tasks::TaskKind::Bits, perfect, b, 0.0);
  EXPECT_EQ(p.at("bit_errors"), 0.0);
  EXPECT_EQ(p.at("seq_accuracy"), 1.0);
}

}  // namespace
}  // namespace sdnc
