// The training-side models: the decoder-only sDNC on real-vector sequences gives the same
// logits in both execution forms (parallel = all steps at once; recurrent = one write-once
// slot per step), for each kind of positions; its gradients match finite differences in F64;
// and the sDNC and LSTM models survive a checkpoint round trip.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "sdnc/models/lstm_model.h"
#include "sdnc/models/model.h"
#include "sdnc/models/sequence_sdnc.h"
#include "sdnc/sdnc.h"

namespace sdnc {
namespace {

models::SequenceSdncConfig small(models::Positions p) {
  models::SequenceSdncConfig c;
  c.input_size = 5;
  c.output_size = 3;
  c.d_model = 16;
  c.nhead = 4;
  c.num_layers = 2;
  c.dim_feedforward = 24;
  c.positions = p;
  c.max_positions = 32;
  return c;
}

TEST(SequenceSdnc, RecurrentFormEqualsParallelForm) {
  for (auto p : {models::Positions::Sinusoidal, models::Positions::Learned, models::Positions::None}) {
    models::SequenceSdnc m(small(p));
    Generator g(1);
    m.init(g);
    Tensor x = Tensor::empty({3, 9, 5});
    g.fill_normal(x, 0, 1);
    NoGradGuard no_grad;
    models::Trace tp, tr;
    auto a = m.forward(x, models::Form::Parallel, &tp).to_doubles();
    auto b = m.forward(x, models::Form::Recurrent, &tr).to_doubles();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5 * std::max(1.0, std::abs(a[i]))) << i;
    auto wa = tp.at("layers.1.read_weights").to_doubles(), wb = tr.at("layers.1.read_weights").to_doubles();
    for (size_t i = 0; i < wa.size(); ++i) EXPECT_NEAR(wa[i], wb[i], 1e-5) << i;
  }
}

TEST(SequenceSdnc, SinusoidalPositionsFollowTheFormula) {
  Tensor pe = models::sinusoidal_positions(3, 2, 8, DType::F64);  // positions 3 and 4
  auto v = pe.to_doubles();
  EXPECT_DOUBLE_EQ(v[0], std::sin(3.0));
  EXPECT_DOUBLE_EQ(v[1], std::cos(3.0));
  EXPECT_DOUBLE_EQ(v[8 + 2], std::sin(4.0 / std::pow(10000.0, 2.0 / 8.0)));
  EXPECT_DOUBLE_EQ(v[8 + 7], std::cos(4.0 / std::pow(10000.0, 6.0 / 8.0)));
}

TEST(SequenceSdnc, GradientsMatchFiniteDifferencesInF64) {
  models::SequenceSdnc m(small(models::Positions::Sinusoidal));
  Generator g(2);
  m.init(g);
  m.to(DType::F64);
  Tensor x = Tensor::empty({2, 4, 5}, DType::F64);
  g.fill_normal(x, 0, 1);
  auto loss_of = [&]() { return sum_all(mul(m.forward(x), m.forward(x))); };
  Tensor loss = loss_of();
  loss.backward();
  int checked = 0;
  for (auto& [name, p] : m.named_parameters()) {
    Tensor param = p;
    Tensor grad = param.grad();
    ASSERT_TRUE(grad.defined()) << name;
    for (int64_t i = 0; i < param.numel(); i += std::max<int64_t>(1, param.numel() / 3)) {
      double* v = param.data<double>() + i;
      double keep = *v, h = 1e-6;
      NoGradGuard no_grad;
      *v = keep + h;
      double up = loss_of().item();
      *v = keep - h;
      double down = loss_of().item();
      *v = keep;
      double fd = (up - down) / (2 * h), an = grad.data<double>()[i];
      EXPECT_NEAR(an, fd, 1e-6 * std::max(1.0, std::abs(fd))) << name << "[" << i << "]";
      ++checked;
    }
  }
  EXPECT_GT(checked, 40);
}

TEST(TrainingModels, CheckpointRoundTrip) {
  namespace fs = std::filesystem;
  nlohmann::json configs[] = {
      small(models::Positions::Learned).to_json(),
      {{"model_type", "lstm"}, {"input_size", 4}, {"output_size", 2}, {"hidden_size", 8}},
  };
  for (auto& config : configs) {
    auto a = models::make_model(config, "test");
    Generator g(3);
    a->init(g);
    std::string dir = (fs::temp_directory_path() / fmt::format("sdnc_rt_{}_{}", getpid(), a->type())).string();
    models::save_model(*a, dir);
    auto b = models::load_model(dir);
    fs::remove_all(dir);
    EXPECT_EQ(b->type(), a->type());
    Tensor x = Tensor::empty({2, 6, config["input_size"].get<int64_t>()});
    g.fill_normal(x, 0, 1);
    NoGradGuard no_grad;
    auto ya = a->run({{"inputs", x}}, models::Form::Parallel, nullptr).at("outputs").to_doubles();
    auto yb = b->run({{"inputs", x}}, models::Form::Parallel, nullptr).at("outputs").to_doubles();
    EXPECT_EQ(ya, yb) << a->type();
  }
  EXPECT_THROW(models::make_model({{"model_type", "sdnc"}, {"input_size", 3}}, "test"), Error);  // no output_size
}

}  // namespace
}  // namespace sdnc
