// dnc_bench — workloads D1, D2, D3 of ../shared/BENCHMARKS.md on sdnc, one JSON line each
// (its PyTorch peer is bench/torch_dnc.py; bench/run_dnc_bench.sh runs both interleaved and
// prints the ratios). Same shapes, data shapes and optimiser as the peer.
//
//   D1  training step, DeepMind repeat-copy defaults: LSTM 64, N=16, W=16, R=4, H=1, B=16,
//       T=9, X=6 (4 bits + 2 flags), Y=5: forward (DncModel::forward), sigmoid BCE (mean),
//       backward, AdamW (lr 1e-4, weight decay 0.01). (T·B)/s = T·B / step time.
//   D2  training step: LSTM 256, N=128, W=64, R=4, H=1, B=32, T=100, X=10, Y=9.
//   kernel  a profile of the pieces at the D1/D2 shapes (see run_kernel)
//   D3  inference with the D2 model, B=1, T=10,000 under NoGradGuard (no per-step state is
//       kept): steps/s and the process's peak RSS.
//
//   dnc_bench [--threads N] [--workloads D1,D2,D3] [--steps N] [--warmup N] [--d3-steps N]
//             [--path fused|composed] [--checkpoint K]
// --path composed runs the op-by-op reference path (before/after of the fused step).
// --checkpoint K trains D1/D2 with DncModel::set_checkpoint_every(K) (recomputed segments);
// the training lines report the process's peak RSS (run one configuration per process).
// Times are medians over --steps measured repetitions after --warmup unmeasured ones.
#include <fmt/format.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <cstdio>
#include <string>
#include <vector>

#include "sdnc/backend/cpu/gemm.h"
#include "sdnc/machine/memory_machine.h"
#include "sdnc/models/dnc.h"
#include "sdnc/sdnc.h"
#include "sdnc/train/adamw.h"

namespace {

using namespace sdnc;
using Clock = std::chrono::steady_clock;

// SDNC_BENCH_CPU_TIME=1: thread CPU time instead of wall time (profiling on a loaded machine).
double cpu_now() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

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
  std::string model = "machine";  // the memory machine's dnc preset, or "legacy" (models::DncModel)
  int64_t checkpoint = 0;  // DncModel::set_checkpoint_every for D1/D2
};

struct DncShape {
  int64_t hidden, N, W, R, H, B, T, X, Y;
  // DeepMind's interface width: read keys and strengths, write keys and strengths, erase and
  // write vectors, free gates, allocation and write gates, read modes
  int64_t interface_width() const { return R * W + R + H * W + H + 2 * H * W + R + 2 * H + R * (1 + 2 * H); }
  // multiply-adds of the three matrices per token: LSTM gates [4h, X + R·W + h], interface
  // [I, h], output [Y, h + R·W]
  int64_t matrix_macs() const { return 4 * hidden * (X + R * W + hidden) + interface_width() * hidden + Y * (hidden + R * W); }
  // A lower bound on a training step's FLOPs: the matrices' forward, dX and dW (3 × 2 × MACs)
  // per token; the memory access (N² link sweeps, content weights) comes on top.
  double train_gemm_flops() const { return 6.0 * static_cast<double>(matrix_macs()) * T * B; }
};
constexpr DncShape kD1{64, 16, 16, 4, 1, 16, 9, 6, 5}, kD2{256, 128, 64, 4, 1, 32, 100, 10, 9};

// The DNC under test: the memory machine's dnc preset (what `sdnc train --model dnc` runs), or
// the DncModel it replaced (--model legacy), for before/after ratios in the same run.
struct BenchDnc {
  std::unique_ptr<models::DncModel> legacy;
  std::unique_ptr<machine::MemoryMachine> machine;
  std::vector<Tensor> parameters() const { return legacy ? legacy->parameters() : machine->parameters(); }
  Tensor forward(const Tensor& x) const {
    return legacy ? legacy->forward(x) : machine->forward(x, models::Form::Recurrent);
  }
  void warm_up(const Tensor& x, int64_t steps) const {
    const int64_t X = x.size(2);
    if (legacy) {
      models::DncState st = legacy->zero_state(1);
      for (int64_t t = 0; t < steps; ++t) legacy->step(reshape(slice(x, 1, t, t + 1), {1, X}), st);
    } else {
      machine::MemoryMachine::State st = machine->initial_state(1);
      for (int64_t t = 0; t < steps; ++t) machine->step(reshape(slice(x, 1, t, t + 1), {1, X}), st);
    }
  }
};

std::unique_ptr<BenchDnc> make_model(const DncShape& s, const Options& o) {
  models::DncConfig c;
  c.input_size = s.X, c.output_size = s.Y, c.hidden_size = s.hidden, c.memory_size = s.N, c.word_size = s.W;
  c.num_read_heads = s.R, c.num_write_heads = s.H;
  auto b = std::make_unique<BenchDnc>();
  Generator g(1);
  if (o.model == "legacy") {
    b->legacy = std::make_unique<models::DncModel>(c);
    b->legacy->init(g);
    b->legacy->set_fused(o.path == "fused");
    b->legacy->set_checkpoint_every(o.checkpoint);
  } else {
    b->machine = std::make_unique<machine::MemoryMachine>(machine::MachineConfig::from_json(c.to_json(), "D"));
    b->machine->init(g);
    b->machine->set_fused(o.path == "fused");
    b->machine->set_checkpoint_every(o.checkpoint);
  }
  return b;
}

Tensor bits(Generator& g, int64_t B, int64_t T, int64_t X) {
  Tensor t = Tensor::empty({B, T, X});
  g.fill_uniform(t, 0, 1);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = p[i] < 0.5f ? 0.0f : 1.0f;
  return t;
}

void print_line(const Options& o, const std::string& body) {
  std::printf("{\"impl\": \"sdnc\", \"model\": \"%s\", \"path\": \"%s\", %s}\n", o.model.c_str(), o.path.c_str(),
              body.c_str());
  std::fflush(stdout);
}

void run_train(const char* name, const DncShape& s, const Options& o) {
  auto model = make_model(s, o);
  train::AdamW opt(model->parameters(), 1e-4, 0.9, 0.999, 1e-8, 0.01);
  Generator g(2);
  Tensor inputs = bits(g, s.B, s.T, s.X), targets = bits(g, s.B, s.T, s.Y);
  std::vector<double> total, fwd, bwd, optim, cpu;
  double loss_value = 0;
  for (int i = 0; i < o.warmup + o.steps; ++i) {
    auto t0 = Clock::now();
    const double c0 = cpu_now();
    opt.zero_grad();
    Tensor loss = sigmoid_bce_with_logits(model->forward(inputs), targets);
    double tf = seconds_since(t0);
    auto t1 = Clock::now();
    loss.backward();
    double tb = seconds_since(t1);
    auto t2 = Clock::now();
    opt.step();
    double to = seconds_since(t2);
    double tt = seconds_since(t0), tc = cpu_now() - c0;
    loss_value = loss.item();
    if (i >= o.warmup) total.push_back(tt), fwd.push_back(tf), bwd.push_back(tb), optim.push_back(to), cpu.push_back(tc);
  }
  double step = median(total);
  print_line(o, fmt::format("\"workload\": \"{}\", \"threads\": {}, \"step_ms\": {:.3f}, \"step_ms_min\": {:.3f}, "
                            "\"steps\": {}, \"tb_per_s\": {:.1f}, \"loss\": {:.5f}, \"forward_ms\": {:.3f}, "
                            "\"backward_ms\": {:.3f}, \"optimizer_ms\": {:.3f}, \"checkpoint\": {}, \"peak_rss_mb\": {:.1f}, "
                            "\"step_thread_cpu_ms\": {:.3f}, \"gemm_flops_per_step\": {:.4g}, \"gemm_gflops\": {:.2f}",
                            name, o.threads, step * 1e3, *std::min_element(total.begin(), total.end()) * 1e3,
                            total.size(), s.T * s.B / step, loss_value, median(fwd) * 1e3, median(bwd) * 1e3,
                            median(optim) * 1e3, o.checkpoint, peak_rss_mb(), median(cpu) * 1e3, s.train_gemm_flops(),
                            s.train_gemm_flops() / step * 1e-9));
}

// M1: one training step (forward, BCE, backward, AdamW) of machine corners at the D2 size
// (B 32, T 100, X 10, Y 9, R 4, W 64, N 128; recurrent h 256; stateless D 256, F 512, one
// layer), each against the DNC corner in the same run. Corners: the two presets' dials, the
// hybrids of the dials study (issue 10) and the allocate corners; each allocate corner but the
// DNC runs twice: its fused access node, then its composed parts (the path before the node).
void run_m1(const Options& o) {
  struct Corner {
    const char* name;
    nlohmann::json dials;
  };
  const int64_t T = kD2.T;
  std::vector<Corner> corners = {
      {"dnc", {{"controller", "lstm"}, {"write", "allocate"}, {"similarity", "cosine"}, {"read_modes", "links"},
               {"key_value", "shared"}, {"strength", "softplus"}}},
      {"transformer", {{"controller", "stateless"}, {"write", "append"}, {"similarity", "dot"},
                       {"read_modes", "content"}, {"key_value", "separate"}, {"positions", "sinusoidal"}}},
      {"lstm+append", {{"controller", "lstm"}, {"write", "append"}, {"similarity", "dot"}, {"read_modes", "content"},
                       {"key_value", "separate"}}},
      {"stateless+links(append)", {{"controller", "stateless"}, {"write", "append"}, {"similarity", "dot"},
                                   {"read_modes", "links"}, {"key_value", "separate"}, {"positions", "sinusoidal"}}},
      {"transformer bounded N=T/2", {{"controller", "stateless"}, {"write", "append"}, {"similarity", "dot"},
                                     {"read_modes", "content"}, {"key_value", "separate"}, {"memory_slots", T / 2},
                                     {"positions", "sinusoidal"}}},
      {"cosine transformer", {{"controller", "stateless"}, {"write", "append"}, {"similarity", "cosine"},
                              {"read_modes", "content"}, {"key_value", "separate"}, {"positions", "sinusoidal"}}},
      {"dnc separate k/v", {{"controller", "lstm"}, {"write", "allocate"}, {"similarity", "cosine"},
                            {"read_modes", "links"}, {"key_value", "separate"}}},
      {"dnc dot", {{"controller", "lstm"}, {"write", "allocate"}, {"similarity", "dot"}, {"read_modes", "links"},
                   {"key_value", "shared"}}},
      {"dnc content-only", {{"controller", "lstm"}, {"write", "allocate"}, {"similarity", "cosine"},
                            {"read_modes", "content"}, {"key_value", "shared"}}},
      {"stateless dnc access", {{"controller", "stateless"}, {"write", "allocate"}, {"similarity", "cosine"},
                                {"read_modes", "links"}, {"key_value", "shared"}, {"positions", "sinusoidal"}}},
      {"transformer + allocate", {{"controller", "stateless"}, {"write", "allocate"}, {"similarity", "dot"},
                                  {"read_modes", "content"}, {"key_value", "separate"}, {"positions", "sinusoidal"}}},
  };
  Generator g(2);
  Tensor inputs = bits(g, kD2.B, T, kD2.X), targets = bits(g, kD2.B, T, kD2.Y);
  struct Run {
    const Corner* corner;
    bool fused;
  };
  std::vector<Run> runs;
  for (size_t ci = 0; ci < corners.size(); ++ci) {
    runs.push_back({&corners[ci], true});
    if (ci > 0 && corners[ci].dials["write"] == "allocate") runs.push_back({&corners[ci], false});  // composed twin
  }
  double dnc_ms = 0;
  for (const Run& run : runs) {
    const Corner& c = *run.corner;
    const bool fused = run.fused;
    nlohmann::json j = c.dials;
    j["model_type"] = "machine", j["input_size"] = kD2.X, j["output_size"] = kD2.Y, j["read_heads"] = kD2.R;
    j["word_size"] = kD2.W, j["hidden_size"] = kD2.hidden, j["d_model"] = 256, j["d_ffn"] = 512;
    if (!j.contains("memory_slots")) j["memory_slots"] = j["write"] == "allocate" ? kD2.N : 0;
    machine::MachineConfig mc = machine::MachineConfig::from_json(j, c.name);
    machine::MemoryMachine m(mc);
    Generator gi(1);
    m.init(gi);
    m.set_fused(fused);
    models::Form form = mc.has_parallel_form() ? models::Form::Parallel : models::Form::Recurrent;
    train::AdamW opt(m.parameters(), 1e-4, 0.9, 0.999, 1e-8, 0.01);
    std::vector<double> total;
    for (int i = 0; i < o.warmup + o.steps; ++i) {
      auto t0 = Clock::now();
      opt.zero_grad();
      Tensor loss = sigmoid_bce_with_logits(m.forward(inputs, form), targets);
      loss.backward();
      opt.step();
      if (i >= o.warmup) total.push_back(seconds_since(t0));
    }
    double ms = median(total) * 1e3;
    if (dnc_ms == 0) dnc_ms = ms;
    const bool fused_access = fused && mc.has_fused_access() && mc.stop_usage_gradient;
    print_line(o, fmt::format("\"workload\": \"M1\", \"corner\": \"{}\", \"form\": \"{}\", \"access\": \"{}\", "
                              "\"threads\": {}, \"step_ms\": {:.1f}, \"vs_dnc_corner\": {:.2f}, \"params\": {}, "
                              "\"peak_rss_mb\": {:.1f}",
                              c.name, form == models::Form::Parallel ? "parallel" : "recurrent",
                              fused_access ? "fused" : "composed", o.threads, ms, ms / dnc_ms, m.num_parameters(),
                              peak_rss_mb()));
  }
}

// The floor of one inference step at B = 1: the three matrices (LSTM gates, interface,
// output) times one row each, timed alone on the calling thread (best of 5 × 500 sweeps,
// after 100 unmeasured), the way the step reads them: every weight once from the caches
// (2.6 MB at the D2 size: more than L2, so L3). The memory access comes on top.
double weights_floor_ms(const DncShape& s) {
  const int64_t h = s.hidden, RW = s.R * s.W;
  const int64_t rows[3] = {4 * h, s.interface_width(), s.Y}, cols[3] = {s.X + RW + h, h, h + RW};
  std::vector<std::vector<float>> W(3), x(3), y(3);
  for (int i = 0; i < 3; ++i) W[i].assign(rows[i] * cols[i], 0.01f), x[i].assign(cols[i], 0.5f), y[i].resize(rows[i]);
  auto sweep = [&] {
    for (int i = 0; i < 3; ++i)
      cpu::gemm(false, true, 1, rows[i], cols[i], 1.f, x[i].data(), cols[i], W[i].data(), cols[i], 0.f, y[i].data(),
                rows[i]);
  };
  for (int i = 0; i < 100; ++i) sweep();
  double best = 1e30;
  for (int r = 0; r < 5; ++r) {
    auto t0 = Clock::now();
    for (int i = 0; i < 500; ++i) sweep();
    best = std::min(best, seconds_since(t0) / 500);
  }
  return best * 1e3;
}

void run_d3(const Options& o) {
  DncShape s = kD2;
  s.B = 1, s.T = o.d3_steps;
  auto model = make_model(s, o);
  double rss0 = peak_rss_mb();
  Generator g(3);
  Tensor x = bits(g, 1, s.T, s.X);
  NoGradGuard no_grad;
  model->warm_up(x, 20);
  auto t0 = Clock::now();
  Tensor y = model->forward(x);
  double dt = seconds_since(t0);
  double checksum = 0;
  for (double v : y.to_doubles()) checksum += std::fabs(v);
  print_line(o, fmt::format("\"workload\": \"D3\", \"threads\": {}, \"T\": {}, \"steps_per_s\": {:.1f}, "
                            "\"ms_per_step\": {:.4f}, \"peak_rss_mb\": {:.1f}, \"rss_before_mb\": {:.1f}, "
                            "\"checksum\": {:.6f}, \"weight_mb_per_step\": {:.2f}, \"weights_floor_ms\": {:.4f}",
                            o.threads, s.T, s.T / dt, dt / s.T * 1e3, peak_rss_mb(), rss0, checksum / y.numel(),
                            4e-6 * static_cast<double>(s.matrix_macs()), weights_floor_ms(s)));
}

// A profile of the pieces at the D1 and D2 shapes, in thread CPU time (this machine is shared):
//   step_{forward,backward}_us   the fused access step alone, the same state every call
//   chain_{forward,backward}_us  per step of a 100-step chain with grad, from the zero state,
//                                as in training (memory is kept for the backward); the
//                                second of two passes, as a training loop's later steps
//   lstm_cell_us, gemm_us        the controller's cell forward and its two GEMMs
void run_kernel(const Options& o) {
  for (const auto& [name, s] : {std::pair{"D1", kD1}, std::pair{"D2", kD2}}) {
    Generator g(4);
    const int64_t B = s.B, N = s.N, W = s.W, R = s.R, H = s.H, I = dnc_interface_width(W, R, H);
    auto rnd = [&](sdnc::Shape sh, double lo, double hi) {
      Tensor t = Tensor::empty(sh);
      g.fill_uniform(t, lo, hi);
      return t;
    };
    auto zero_state = [&] {
      return std::vector<Tensor>{Tensor::zeros({B, N, W}),    Tensor::zeros({B, R, N}), Tensor::zeros({B, H, N}),
                                 Tensor::zeros({B, H, N, N}), Tensor::zeros({B, H, N}), Tensor::zeros({B, N})};
    };
    Tensor iface = rnd({B, I}, -2, 2).requires_grad_();
    std::vector<Tensor> st = {rnd({B, N, W}, -1, 1),           rnd({B, R, N}, 0, 1.0 / N), rnd({B, H, N}, 0, 1.0 / N),
                              rnd({B, H, N, N}, 0, 1.0 / N), rnd({B, H, N}, 0, 1.0 / N), rnd({B, N}, 0, 1)};
    for (int k : {0, 1, 3, 4, 5}) st[k].requires_grad_();
    std::vector<double> fwd, bwd;
    for (int i = 0; i < o.warmup + 20 * o.steps; ++i) {
      double t0 = cpu_now();
      auto out = dnc_access_step(iface, st[0], st[1], st[2], st[3], st[4], st[5]);
      double tf = cpu_now() - t0;
      std::vector<Tensor> gs;
      for (const Tensor& t : out) gs.push_back(Tensor::ones(t.shape()));
      double t1 = cpu_now();
      run_backward(out, gs);
      double tb = cpu_now() - t1;
      if (i >= o.warmup) fwd.push_back(tf), bwd.push_back(tb);
      for (Tensor& t : st) t.zero_grad();
      iface.zero_grad();
    }
    double chain_f = 0, chain_b = 0;
    for (int pass = 0; pass < 2; ++pass) {  // the second pass reuses the first one's blocks
      std::vector<Tensor> cs = zero_state();
      std::vector<Tensor> xs;
      for (int i = 0; i < 100; ++i) xs.push_back(rnd({B, I}, -2, 2).requires_grad_());
      std::vector<Tensor> words;
      double t0 = cpu_now();
      for (int i = 0; i < 100; ++i) {
        auto out = dnc_access_step(xs[i], cs[0], cs[1], cs[2], cs[3], cs[4], cs[5]);
        words.push_back(out[0]);
        for (int k = 0; k < 6; ++k) cs[k] = out[k + 1];
      }
      chain_f = (cpu_now() - t0) / 100;
      Tensor loss = Tensor::scalar(0.0);
      for (auto& w : words) loss = add(loss, sum_all(w));
      double t1 = cpu_now();
      loss.backward();
      chain_b = (cpu_now() - t1) / 100;
    }
    std::vector<double> tl, tg;
    {
      const int64_t hid = s.hidden, X = s.X + R * W;
      Tensor x = rnd({B, X}, -1, 1), h = rnd({B, hid}, -1, 1), c = rnd({B, hid}, -1, 1);
      Tensor wih = rnd({4 * hid, X}, -0.1, 0.1), whh = rnd({4 * hid, hid}, -0.1, 0.1), bias = rnd({4 * hid}, -0.1, 0.1);
      Tensor gates = Tensor::empty({B, 4 * hid});
      for (int i = 0; i < 20 * o.steps; ++i) {
        double t0 = cpu_now();
        auto hc = lstm_cell(x, h, c, wih, whh, bias, 1.0);
        tl.push_back(cpu_now() - t0);
        t0 = cpu_now();
        cpu::gemm(false, true, B, 4 * hid, X, 1.0f, x.data<float>(), X, wih.data<float>(), X, 0.0f, gates.data<float>(),
                  4 * hid);
        cpu::gemm(false, true, B, 4 * hid, hid, 1.0f, h.data<float>(), hid, whh.data<float>(), hid, 1.0f,
                  gates.data<float>(), 4 * hid);
        tg.push_back(cpu_now() - t0);
      }
    }
    print_line(o, fmt::format("\"workload\": \"kernel_{}\", \"threads\": {}, \"B\": {}, \"step_forward_us\": {:.1f}, "
                              "\"step_backward_us\": {:.1f}, \"chain_forward_us\": {:.1f}, \"chain_backward_us\": {:.1f}, "
                              "\"lstm_cell_us\": {:.1f}, \"gemm_us\": {:.1f}",
                              name, o.threads, B, median(fwd) * 1e6, median(bwd) * 1e6, chain_f * 1e6, chain_b * 1e6,
                              median(tl) * 1e6, median(tg) * 1e6));
  }
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
    else if (a == "--model") o.model = value();
    else if (a == "--checkpoint") o.checkpoint = std::stoll(value());
    else {
      std::fprintf(stderr,
                   "usage: dnc_bench [--threads N] [--workloads D1,D2,D3,M1,kernel] [--steps N] [--warmup N] [--d3-steps N] "
                   "[--path fused|composed] [--checkpoint K]\n");
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
    else if (w == "kernel") run_kernel(o);
    else if (w == "M1") run_m1(o);
    b = e + 1;
  }
  return 0;
}
