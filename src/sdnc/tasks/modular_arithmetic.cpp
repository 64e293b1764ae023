// modular_arithmetic.cpp — Modular Arithmetic (Simple) (regular; Delétang et al. 2023): an
// expression of L operands in [0, m) joined by L − 1 operators from {+, −, ×}, without
// brackets, evaluated with the usual precedence (× before + and −) in Z_m; m = modulus
// (default 5, as the paper). Alphabet A = m + 3: symbols 0..m−1 are the digits, m, m+1, m+2 are
// +, −, ×. The answer is one digit. The task length L is the number of operands (2L − 1 input
// symbols). Layout and metric: formal_language.h.
#include "sdnc/core/error.h"
#include "sdnc/tasks/formal_language.h"

namespace sdnc::tasks {

namespace {

class ModularArithmeticTask : public FormalLanguageTask {
 public:
  explicit ModularArithmeticTask(int64_t m) : FormalLanguageTask("modular_arithmetic", m + 3), m_(m) {
    if (m < 2) fail("task", "modular_arithmetic needs modulus >= 2, got {}", m);
  }
  std::vector<int64_t> draw_input(Generator& g, int64_t L) const override {
    std::vector<int64_t> x;
    for (int64_t i = 0; i < L; ++i) {
      if (i > 0) x.push_back(m_ + g.randint(0, 3));
      x.push_back(g.randint(0, m_));
    }
    return x;
  }
  // Σ of signed products: a running product for the current term, added on + or −.
  std::vector<int64_t> solve(const std::vector<int64_t>& x) const override {
    int64_t sum = 0, term = x[0], sign = 1;
    for (size_t i = 1; i + 1 < x.size(); i += 2) {
      int64_t op = x[i] - m_, v = x[i + 1];
      if (op == 2) {
        term = term * v % m_;
      } else {
        sum = (sum + sign * term) % m_;
        sign = op == 0 ? 1 : -1;
        term = v;
      }
    }
    sum = ((sum + sign * term) % m_ + m_) % m_;
    return {sum};
  }
  int64_t input_steps(int64_t L) const override { return 2 * L - 1; }
  int64_t answer_steps(int64_t) const override { return 1; }

 private:
  int64_t m_;
};

}  // namespace

std::unique_ptr<Task> make_modular_arithmetic_task(const TaskConfig& c) {
  return std::make_unique<ModularArithmeticTask>(c.modulus);
}

}  // namespace sdnc::tasks
