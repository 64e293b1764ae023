// RMSProp against its oracles (tests/golden/rmsprop_ref.py): torch.optim.RMSprop for the
// Torch variant, and TensorFlow 1's documented update (ms starts at 1, ε inside the root)
// for the TF1 variant; plus the learning-rate schedule and global-norm clipping.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "sdnc/sdnc.h"
#include "sdnc/train/grad_clip.h"
#include "sdnc/train/rmsprop.h"
#include "../common/optimizer_replay.h"
#include "sdnc/train/schedule.h"

namespace sdnc {
namespace {

namespace fs = std::filesystem;

struct Case {
  const char* dtype;
  const char* variant;
  double lr, decay, eps, momentum;
  double atol, rtol;
};

const Case kCases[] = {
    {"float32", "torch", 1e-2, 0.99, 1e-8, 0.0, 1e-6, 1e-5},
    {"float32", "torch", 3e-3, 0.9, 1e-6, 0.9, 1e-6, 1e-5},
    {"float64", "torch", 1e-2, 0.99, 1e-8, 0.5, 1e-13, 1e-12},
    {"float32", "tf1", 1e-4, 0.9, 1e-10, 0.0, 1e-6, 1e-5},  // DeepMind's DNC training
    {"float64", "tf1", 1e-2, 0.9, 1e-10, 0.9, 1e-13, 1e-12},
};

class RmsPropVsOracle : public ::testing::TestWithParam<int> {};

TEST_P(RmsPropVsOracle, FiveStepsMatch) {
  const Case& c = kCases[GetParam()];
  std::string path = (fs::temp_directory_path() /
                      fmt::format("sdnc_test_{}_rmsprop{}.safetensors", getpid(), GetParam())).string();
  std::string cmd = fmt::format("/usr/bin/python3 {}/tests/golden/rmsprop_ref.py {} {} {} {:.17g} {:.17g} {:.17g} {:.17g}",
                                SDNC_SOURCE_DIR, path, c.dtype, c.variant, c.lr, c.decay, c.eps, c.momentum);
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  SafetensorsFile f = load_safetensors(path);
  fs::remove(path);
  std::vector<Tensor> params = test::oracle_params(f);
  const int n = static_cast<int>(params.size());
  auto variant = std::string(c.variant) == "tf1" ? train::RmsPropVariant::TF1 : train::RmsPropVariant::Torch;
  train::RmsProp opt(params, c.lr, variant, c.decay, c.eps, c.momentum);
  test::replay_oracle_steps(f, params, opt, c.atol, c.rtol);
  auto expect_close = [&](const Tensor& got, const Tensor& want, const std::string& what) {
    test::expect_close_elementwise(got, want, c.atol, c.rtol, what);
  };
  for (int i = 0; i < n; ++i) {
    expect_close(opt.state()[i].square_avg, f.tensors.at(fmt::format("p{}.square_avg", i)), fmt::format("p{} ms", i));
    expect_close(opt.state()[i].momentum, f.tensors.at(fmt::format("p{}.momentum", i)), fmt::format("p{} mom", i));
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, RmsPropVsOracle, ::testing::Range(0, 5));

TEST(RmsProp, StateRoundTripsThroughNamedTensors) {
  Tensor p = Tensor::ones({4}).requires_grad_();
  train::RmsProp a({p}, 0.1, train::RmsPropVariant::TF1, 0.9, 1e-10, 0.5);
  p.set_grad(Tensor::full({4}, 0.5));
  a.step();
  auto state = a.state_tensors({"w"});
  Tensor q = Tensor::ones({4}).requires_grad_();
  train::RmsProp b({q}, 0.1, train::RmsPropVariant::TF1, 0.9, 1e-10, 0.5);
  b.load_state_tensors(state, {"w"});
  EXPECT_EQ(b.state()[0].square_avg.to_doubles(), a.state()[0].square_avg.to_doubles());
  EXPECT_EQ(b.state()[0].momentum.to_doubles(), a.state()[0].momentum.to_doubles());
  state.erase("w.momentum");
  EXPECT_THROW(b.load_state_tensors(state, {"w"}), Error);
  EXPECT_THROW(train::RmsProp({p}, 0.1, train::RmsPropVariant::Torch, 1.0, 1e-8), Error);
}

TEST(LrSchedule, WarmupThenCosineToTheFloor) {
  train::LrSchedule s{1.0, 4, 104, train::ScheduleKind::Cosine, 0.1};
  EXPECT_DOUBLE_EQ(s.at(0), 0.25);
  EXPECT_DOUBLE_EQ(s.at(3), 1.0);
  EXPECT_DOUBLE_EQ(s.at(4), 1.0);                    // the peak, then decay
  EXPECT_NEAR(s.at(54), 0.1 + 0.9 * 0.5, 1e-12);     // halfway: cos(π/2) = 0
  EXPECT_NEAR(s.at(104), 0.1, 1e-12);                // the floor
  train::LrSchedule constant{0.5, 0, 10, train::ScheduleKind::Constant, 0.0};
  EXPECT_DOUBLE_EQ(constant.at(7), 0.5);
}

TEST(GradClip, ScalesEveryGradientByTheGlobalNorm) {
  Tensor a = Tensor::ones({2}).requires_grad_(), b = Tensor::ones({1}).requires_grad_();
  a.set_grad(Tensor::from_vector(std::vector<double>{3.0, 0.0}, {2}, DType::F32));
  b.set_grad(Tensor::from_vector(std::vector<double>{4.0}, {1}, DType::F32));
  EXPECT_DOUBLE_EQ(train::clip_grad_global_norm({a, b}, 10.0), 5.0);  // under the limit: unchanged
  EXPECT_EQ(a.grad().to_doubles(), (std::vector<double>{3.0, 0.0}));
  EXPECT_DOUBLE_EQ(train::clip_grad_global_norm({a, b}, 1.0), 5.0);
  EXPECT_NEAR(a.grad().to_doubles()[0], 0.6, 1e-7);
  EXPECT_NEAR(b.grad().to_doubles()[0], 0.8, 1e-7);
}

}  // namespace
}  // namespace sdnc
