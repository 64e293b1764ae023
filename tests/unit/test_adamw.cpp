// AdamW against torch.optim.AdamW: the oracle (tests/golden/adamw_ref.py) runs PyTorch's
// optimizer on synthetic parameters and gradients and writes every intermediate value; the
// test replays the same gradients through sdnc::train::AdamW and compares after each step.
#include <gtest/gtest.h>

#include <cmath>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "sdnc/sdnc.h"
#include "sdnc/train/adamw.h"
#include "../common/optimizer_replay.h"

namespace sdnc {
namespace {

namespace fs = std::filesystem;

struct Case {
  const char* dtype;
  double lr, beta1, beta2, eps, weight_decay;
  double atol, rtol;
};

std::string run_oracle(const Case& c, int index) {
  std::string path = (fs::temp_directory_path() /
                      ("sdnc_test_" + std::to_string(getpid()) + "_adamw" + std::to_string(index) + ".safetensors"))
                         .string();
  std::string cmd = fmt::format("/usr/bin/python3 {}/tests/golden/adamw_ref.py {} {} {:.17g} {:.17g} {:.17g} {:.17g} {:.17g}",
                                SDNC_SOURCE_DIR, path, c.dtype, c.lr, c.beta1, c.beta2, c.eps, c.weight_decay);
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return path;
}

void expect_close(const Tensor& got, const Tensor& want, const Case& c, const std::string& what) {
  test::expect_close_elementwise(got, want, c.atol, c.rtol, what);
}

class AdamWVsTorch : public ::testing::TestWithParam<int> {};

const Case kCases[] = {
    {"float32", 1e-3, 0.9, 0.999, 1e-8, 0.01, 1e-6, 1e-5},  // the defaults
    {"float32", 3e-2, 0.8, 0.95, 1e-6, 0.1, 1e-6, 1e-5},
    {"float64", 1e-3, 0.9, 0.999, 1e-8, 0.01, 1e-13, 1e-12},
    {"float64", 5e-2, 0.5, 0.9, 1e-4, 0.0, 1e-13, 1e-12},
};

TEST_P(AdamWVsTorch, FiveStepsMatchPyTorch) {
  const Case& c = kCases[GetParam()];
  std::string path = run_oracle(c, GetParam());
  SafetensorsFile f = load_safetensors(path);
  fs::remove(path);
  std::vector<Tensor> params = test::oracle_params(f);
  const int n = static_cast<int>(params.size());
  train::AdamW opt(params, c.lr, c.beta1, c.beta2, c.eps, c.weight_decay);
  test::replay_oracle_steps(f, params, opt, c.atol, c.rtol);
  for (int i = 0; i < n; ++i) {
    expect_close(opt.state()[i].exp_avg, f.tensors.at(fmt::format("p{}.exp_avg", i)), c, fmt::format("p{} exp_avg", i));
    expect_close(opt.state()[i].exp_avg_sq, f.tensors.at(fmt::format("p{}.exp_avg_sq", i)), c,
                 fmt::format("p{} exp_avg_sq", i));
    EXPECT_EQ(opt.state()[i].step, f.tensors.at(fmt::format("p{}.step", i)).item()) << "p" << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, AdamWVsTorch, ::testing::Range(0, 4));

TEST(AdamW, ResultsDoNotDependOnTheThreadCount) {
  auto run = [](int threads) {
    set_num_threads(threads);
    Generator g(5);
    Tensor p = Tensor::empty({70000});
    g.fill_normal(p, 0, 1);
    p.requires_grad_();
    train::AdamW opt({p}, 1e-2);
    for (int k = 0; k < 3; ++k) {
      Tensor grad = Tensor::empty({70000});
      g.fill_normal(grad, 0, 1);
      p.set_grad(grad);
      opt.step();
    }
    set_num_threads(2);
    return p.to_doubles();
  };
  EXPECT_EQ(run(1), run(2));
}

TEST(AdamW, ZeroGradDropsGradientsAndCheckedArguments) {
  Tensor p = Tensor::ones({3}).requires_grad_();
  train::AdamW opt({p}, 0.1);
  p.set_grad(Tensor::ones({3}));
  opt.zero_grad();
  EXPECT_FALSE(p.grad().defined());
  opt.step();  // no gradient: nothing changes
  EXPECT_EQ(p.to_doubles(), (std::vector<double>{1, 1, 1}));
  EXPECT_EQ(opt.state()[0].step, 0);
  EXPECT_THROW(train::AdamW({p}, -1.0), Error);
  EXPECT_THROW(train::AdamW({p}, 0.1, 1.0), Error);
  EXPECT_THROW(train::AdamW({Tensor::zeros({2}, DType::I64)}, 0.1), Error);
  p.set_grad(Tensor::ones({4}));
  EXPECT_THROW(opt.step(), Error);
}

}  // namespace
}  // namespace sdnc
