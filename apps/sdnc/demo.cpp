// `sdnc demo` — the engine demo: trains a small MLP classifier on two interleaved spirals
// with the engine's autograd (linear → GELU → linear → GELU → linear → cross-entropy), then
// times the engine's matmul on a T1 shape. Replaced as the main job by the model commands.
#include <chrono>
#include <cmath>

#include "commands.h"
#include "sdnc/backend/cpu/gemm.h"
#include "sdnc/sdnc.h"

namespace sdnc::cli {

namespace {

struct DemoOptions {
  int steps = 600;
  int batch = 256;
  int hidden = 64;
  double lr = 0.1;
  uint64_t seed = 0;
};

// Two spirals in the plane; label = which spiral. x [B, 2] F32, y [B] I64.
void spiral_batch(Generator& g, int batch, Tensor& x, Tensor& y) {
  x = Tensor::empty({batch, 2});
  y = Tensor::empty({batch}, DType::I64);
  for (int i = 0; i < batch; ++i) {
    int64_t label = g.randint(0, 2);
    double r = g.uniform(), angle = 3.0 * M_PI * r + M_PI * label;
    x.data<float>()[2 * i] = static_cast<float>(r * std::cos(angle) + 0.02 * (g.uniform() - 0.5));
    x.data<float>()[2 * i + 1] = static_cast<float>(r * std::sin(angle) + 0.02 * (g.uniform() - 0.5));
    y.data<int64_t>()[i] = label;
  }
}

int run_demo(const DemoOptions& opt) {
  Generator g(opt.seed);
  auto param = [&](Shape s, double fan_in) {
    Tensor t = Tensor::empty(s);
    g.fill_normal(t, 0.0, 1.0 / std::sqrt(fan_in));
    return t.requires_grad_();
  };
  std::vector<Tensor> params = {param({opt.hidden, 2}, 2),           Tensor::zeros({opt.hidden}).requires_grad_(),
                                param({opt.hidden, opt.hidden}, opt.hidden), Tensor::zeros({opt.hidden}).requires_grad_(),
                                param({2, opt.hidden}, opt.hidden),     Tensor::zeros({2}).requires_grad_()};
  auto forward = [&](const Tensor& x) {
    Tensor h = gelu(linear(x, params[0], params[1]), /*approximate_tanh=*/true);
    h = gelu(linear(h, params[2], params[3]), true);
    return linear(h, params[4], params[5]);
  };
  std::printf("sdnc engine demo: MLP 2→%d→%d→2 on two spirals, SGD with momentum, batch %d, %d threads\n",
              opt.hidden, opt.hidden, opt.batch, num_threads());
  std::vector<Tensor> velocity;
  for (auto& p : params) velocity.push_back(Tensor::zeros(p.shape()));
  auto t0 = std::chrono::steady_clock::now();
  for (int step = 1; step <= opt.steps; ++step) {
    Tensor x, y;
    spiral_batch(g, opt.batch, x, y);
    Tensor loss = cross_entropy(forward(x), y);
    loss.backward();
    NoGradGuard no_grad;
    for (size_t k = 0; k < params.size(); ++k) {  // v = 0.9 v + g ; p -= lr v
      float* p = params[k].data<float>();
      float* v = velocity[k].data<float>();
      const float* gr = params[k].grad().data<float>();
      for (int64_t i = 0; i < params[k].numel(); ++i) {
        v[i] = 0.9f * v[i] + gr[i];
        p[i] -= static_cast<float>(opt.lr) * v[i];
      }
      params[k].zero_grad();
    }
    if (step % 100 == 0 || step == 1) std::printf("  step %4d  loss %.4f\n", step, loss.item());
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  NoGradGuard no_grad;
  Tensor x, y;
  spiral_batch(g, 4096, x, y);
  Tensor logits = forward(x);
  int correct = 0;
  for (int i = 0; i < 4096; ++i) {
    const float* l = logits.data<float>() + 2 * i;
    correct += (l[1] > l[0]) == (y.data<int64_t>()[i] == 1);
  }
  std::printf("  trained %d steps in %.2f s; held-out accuracy %.1f%% on 4096 points\n", opt.steps, secs,
              100.0 * correct / 4096);

  // Engine matmul throughput on the T1 FFN-up shape.
  Tensor a = Tensor::empty({4096, 256}), b = Tensor::empty({256, 1024});
  g.fill_normal(a, 0, 1);
  g.fill_normal(b, 0, 1);
  matmul(a, b);  // warm-up
  int reps = 20;
  auto m0 = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) matmul(a, b);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - m0).count() / reps;
  std::printf("  matmul 4096x256 . 256x1024 through %s: %.2f ms, %.1f GFLOP/s\n", cpu::gemm_library_name(), ms,
              2.0 * 4096 * 256 * 1024 / ms * 1e-6);
  return correct > 4096 * 0.9 ? 0 : 1;
}

}  // namespace

void add_demo_command(CLI::App& app, int& exit_code) {
  auto opt = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand("demo", "Engine demo: train a small MLP with autograd, time the matmul");
  cmd->add_option("--steps", opt->steps, "training steps (default 600)")->check(CLI::Range(1, 10000000));
  cmd->add_option("--batch,--batch-size,--batch_size", opt->batch, "batch size (default 256)")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--hidden,--hidden-size,--hidden_size", opt->hidden, "hidden width (default 64)")
      ->check(CLI::Range(1, 1 << 16));
  cmd->add_option("--lr", opt->lr, "learning rate (default 0.1)")->check(CLI::Range(1e-12, 1e3));
  cmd->add_option("--seed", opt->seed, "random seed (default 0)")->check(kSeedRange);
  add_threads_option(cmd);
  cmd->callback([opt, &exit_code] { exit_code = run_demo(*opt); });
}

}  // namespace sdnc::cli
