// dnc_bench — workloads D1, D2, D3 of ../shared/BENCHMARKS.md on sdnc, one JSON line each
// (its PyTorch peer is bench/torch_dnc.py; bench/run_dnc_bench.sh runs both interleaved and
// prints the ratios). Same shapes, data shapes and optimiser as the peer.
//
//   D1  training step, DeepMind repeat-copy defaults: LSTM 64, N=16, W=16, R=4, H=1, B=16,
//       T=9, X=6 (4 bits + 2 flags), Y=5: forward (DncModel::forward), sigmoid BCE (mean),
//       backward, AdamW (lr 1e-4, weight decay 0.01). (T·B)/s = T·B / step time.
//   D2  training step: LSTM 256, N=128, W=64, R=4, H=1, B=32, T=100, X=10, Y=9.
//   D3  inference with the D2 model, B=1, T=10,000 under NoGradGuard (no per-step state is
//       kept): steps/s and the process's peak RSS.
//
//   dnc_bench [--threads N] [--workloads D1,D2,D3] [--steps N] [--warmup N] [--d3-steps N]
//             [--path fused|composed]
// --path composed runs the op-by-op reference path (before/after of the fused step).
// Times are medians over --steps measured repetitions after --warmup unmeasured ones.
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <cstdio>
#include <string>
#include <vector>

#include "sdnc/models/dnc.h"
#include "sdnc/sdnc.h"
#include "sdnc/train/adamw.h"

namespace {

using namespace sdnc;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;  // Linux: KiB
}

struct Options {
  int threads = 2, steps = 5, warmup = 2;
  int64_t d3_steps = 10000;
  std::string workloads = "D1,D2,D3", path = "fused";
};

struct DncShape {
  int64_t hidden, N, W, R, H, B, T, X, Y;
};
constexpr DncShape kD1{64, 16, 16, 4, 1, 16, 9, 6, 5}, kD2{256, 128, 64, 4, 1, 32, 100, 10, 9};

std::unique_ptr<models::DncModel> make_model(const DncShape& s, const Options& o) {
  models::DncConfig c;
  c.input_size = s.X, c.output_size = s.Y, c.hidden_size = s.hidden, c.memory_size = s.N, c.word_size = s.W;
  c.num_read_heads = s.R, c.num_write_heads = s.H;
  auto m = std::make_unique<models::DncModel>(c);
  Generator g(1);
  m->init(g);
  m->set_fused(o.path == "fused");
  return m;
}

Tensor bits(Generator& g, int64_t B, int64_t T, int64_t X) {
  Tensor t = Tensor::empty({B, T, X});
  g.fill_uniform(t, 0, 1);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = p[i] < 0.5f ? 0.0f : 1.0f;
  return t;
}

void print_line(const Options& o, const std::string& body) {
  std::printf("{\"impl\": \"sdnc\", \"path\": \"%s\", %s}\n", o.path.c_str(), body.c_str());
  std::fflush(stdout);
}

void run_train(const char* name, const DncShape& s, const Options& o) {
  auto model = make_model(s, o);
  train::AdamW opt(model->parameters(), 1e-4, 0.9, 0.999, 1e-8, 0.01);
  Generator g(2);
  Tensor inputs = bits(g, s.B, s.T, s.X), targets = bits(g, s.B, s.T, s.Y);
  std::vector<double> total, fwd, bwd, optim;
  double loss_value = 0;
  for (int i = 0; i < o.warmup + o.steps; ++i) {
    auto t0 = Clock::now();
    opt.zero_grad();
    Tensor loss = sigmoid_bce_with_logits(model->forward(inputs), targets);
    double tf = seconds_since(t0);
    auto t1 = Clock::now();
    loss.backward();
    double tb = seconds_since(t1);
    auto t2 = Clock::now();
    opt.step();
    double to = seconds_since(t2);
    double tt = seconds_since(t0);
    loss_value = loss.item();
    if (i >= o.warmup) total.push_back(tt), fwd.push_back(tf), bwd.push_back(tb), optim.push_back(to);
  }
  double step = median(total);
  print_line(o, fmt::format("\"workload\": \"{}\", \"threads\": {}, \"step_ms\": {:.3f}, \"step_ms_min\": {:.3f}, "
                            "\"steps\": {}, \"tb_per_s\": {:.1f}, \"loss\": {:.5f}, \"forward_ms\": {:.3f}, "
                            "\"backward_ms\": {:.3f}, \"optimizer_ms\": {:.3f}",
                            name, o.threads, step * 1e3, *std::min_element(total.begin(), total.end()) * 1e3,
                            total.size(), s.T * s.B / step, loss_value, median(fwd) * 1e3, median(bwd) * 1e3,
                            median(optim) * 1e3));
}

void run_d3(const Options& o) {
  DncShape s = kD2;
  s.B = 1, s.T = o.d3_steps;
  auto model = make_model(s, o);
  double rss0 = peak_rss_mb();
  Generator g(3);
  Tensor x = bits(g, 1, s.T, s.X);
  NoGradGuard no_grad;
  {  // warm-up
    models::DncState st = model->zero_state(1);
    for (int t = 0; t < 20; ++t) model->step(reshape(slice(x, 1, t, t + 1), {1, s.X}), st);
  }
  auto t0 = Clock::now();
  Tensor y = model->forward(x);
  double dt = seconds_since(t0);
  double checksum = 0;
  for (double v : y.to_doubles()) checksum += std::fabs(v);
  print_line(o, fmt::format("\"workload\": \"D3\", \"threads\": {}, \"T\": {}, \"steps_per_s\": {:.1f}, "
                            "\"ms_per_step\": {:.4f}, \"peak_rss_mb\": {:.1f}, \"rss_before_mb\": {:.1f}, "
                            "\"checksum\": {:.6f}",
                            o.threads, s.T, s.T / dt, dt / s.T * 1e3, peak_rss_mb(), rss0, checksum / y.numel()));
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error("missing value for " + a);
      return argv[++i];
    };
    if (a == "--threads") o.threads = std::stoi(value());
    else if (a == "--workloads") o.workloads = value();
    else if (a == "--steps") o.steps = std::stoi(value());
    else if (a == "--warmup") o.warmup = std::stoi(value());
    else if (a == "--d3-steps") o.d3_steps = std::stoll(value());
    else if (a == "--path") o.path = value();
    else {
      std::fprintf(stderr,
                   "usage: dnc_bench [--threads N] [--workloads D1,D2,D3] [--steps N] [--warmup N] [--d3-steps N] "
                   "[--path fused|composed]\n");
      return 2;
    }
  }
  if (o.path != "fused" && o.path != "composed") {
    std::fprintf(stderr, "dnc_bench: --path must be fused or composed\n");
    return 2;
  }
  set_num_threads(o.threads);
  for (size_t b = 0; b < o.workloads.size();) {
    size_t e = o.workloads.find(',', b);
    if (e == std::string::npos) e = o.workloads.size();
    std::string w = o.workloads.substr(b, e - b);
    if (w == "D1") run_train("D1", kD1, o);
    else if (w == "D2") run_train("D2", kD2, o);
    else if (w == "D3") run_d3(o);
    b = e + 1;
  }
  return 0;
}
