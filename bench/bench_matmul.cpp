// bench_matmul — the engine's matmul/linear ops against oneDNN's sgemm (the GEMM library
// sdnc uses for F32) called directly, on the
// GEMM shapes of workload T1 (../shared/BENCHMARKS.md: 16·256 = 4096 tokens, D=256,
// QKV 768, FFN 1024), forward and the transposed forms backward needs.
//
//   build/release/bench/bench_matmul --benchmark_counters_tabular=true
//   bench/matmul_ratio.sh      (runs this and prints engine/BLAS throughput ratios)
#include <benchmark/benchmark.h>
#include <dnnl.h>

#include "sdnc/sdnc.h"

namespace {

using sdnc::Tensor;

struct GemmShape {
  int64_t M, K, N;
};
// T1: tokens × width → QKV, tokens × width → FFN up, tokens × FFN → width (FFN down).
const GemmShape kShapes[] = {{4096, 256, 768}, {4096, 256, 1024}, {4096, 1024, 256}};

Tensor random(sdnc::Shape s, uint64_t seed) {
  Tensor t = Tensor::empty(s);
  sdnc::Generator g(seed);
  g.fill_normal(t, 0, 1);
  return t;
}

void set_flops(benchmark::State& st, double flops_per_iter) {
  st.counters["GFLOP/s"] = benchmark::Counter(flops_per_iter * st.iterations() * 1e-9, benchmark::Counter::kIsRate);
}

// Forward: C = A·B (row-major, NN).
void BM_engine_matmul(benchmark::State& st) {
  auto s = kShapes[st.range(0)];
  Tensor a = random({s.M, s.K}, 1), b = random({s.K, s.N}, 2);
  for (auto _ : st) benchmark::DoNotOptimize(sdnc::matmul(a, b).raw_data());
  set_flops(st, 2.0 * s.M * s.N * s.K);
}
void BM_dnnl_nn(benchmark::State& st) {
  auto s = kShapes[st.range(0)];
  Tensor a = random({s.M, s.K}, 1), b = random({s.K, s.N}, 2), c = Tensor::empty({s.M, s.N});
  for (auto _ : st)
    dnnl_sgemm('N', 'N', s.M, s.N, s.K, 1.f, a.data<float>(), s.K,
                b.data<float>(), s.N, 0.f, c.data<float>(), s.N);
  set_flops(st, 2.0 * s.M * s.N * s.K);
}

// Linear forward: Y = X·Wᵀ with W [N, K] as PyTorch stores it (NT).
void BM_engine_linear(benchmark::State& st) {
  auto s = kShapes[st.range(0)];
  Tensor x = random({s.M, s.K}, 1), w = random({s.N, s.K}, 2);
  for (auto _ : st) benchmark::DoNotOptimize(sdnc::linear(x, w).raw_data());
  set_flops(st, 2.0 * s.M * s.N * s.K);
}
void BM_dnnl_nt(benchmark::State& st) {
  auto s = kShapes[st.range(0)];
  Tensor x = random({s.M, s.K}, 1), w = random({s.N, s.K}, 2), y = Tensor::empty({s.M, s.N});
  for (auto _ : st)
    dnnl_sgemm('N', 'T', s.M, s.N, s.K, 1.f, x.data<float>(), s.K,
                w.data<float>(), s.K, 0.f, y.data<float>(), s.N);
  set_flops(st, 2.0 * s.M * s.N * s.K);
}

// Linear forward + backward (dX = dY·W: NN, dW = dYᵀ·X: TN) through autograd.
void BM_engine_linear_fwd_bwd(benchmark::State& st) {
  auto s = kShapes[st.range(0)];
  Tensor x = random({s.M, s.K}, 1).requires_grad_(), w = random({s.N, s.K}, 2).requires_grad_();
  Tensor g = random({s.M, s.N}, 3);
  for (auto _ : st) {
    Tensor y = sdnc::linear(x, w);
    sdnc::run_backward({y}, {g});
    x.zero_grad();
    w.zero_grad();
  }
  set_flops(st, 3 * 2.0 * s.M * s.N * s.K);
}
void BM_dnnl_fwd_bwd(benchmark::State& st) {
  auto s = kShapes[st.range(0)];
  Tensor x = random({s.M, s.K}, 1), w = random({s.N, s.K}, 2), g = random({s.M, s.N}, 3);
  Tensor y = Tensor::empty({s.M, s.N}), dx = Tensor::empty({s.M, s.K}), dw = Tensor::empty({s.N, s.K});
  for (auto _ : st) {
    dnnl_sgemm('N', 'T', s.M, s.N, s.K, 1.f, x.data<float>(), s.K,
                w.data<float>(), s.K, 0.f, y.data<float>(), s.N);
    dnnl_sgemm('N', 'N', s.M, s.K, s.N, 1.f, g.data<float>(), s.N,
                w.data<float>(), s.K, 0.f, dx.data<float>(), s.K);
    dnnl_sgemm('T', 'N', s.N, s.K, s.M, 1.f, g.data<float>(), s.N,
                x.data<float>(), s.K, 0.f, dw.data<float>(), s.K);
  }
  set_flops(st, 3 * 2.0 * s.M * s.N * s.K);
}

void shapes(benchmark::internal::Benchmark* b) {
  b->ArgName("shape")->DenseRange(0, 2)->Unit(benchmark::kMillisecond)->MinTime(0.3);
}

BENCHMARK(BM_engine_matmul)->Apply(shapes);
BENCHMARK(BM_dnnl_nn)->Apply(shapes);
BENCHMARK(BM_engine_linear)->Apply(shapes);
BENCHMARK(BM_dnnl_nt)->Apply(shapes);
BENCHMARK(BM_engine_linear_fwd_bwd)->Apply(shapes);
BENCHMARK(BM_dnnl_fwd_bwd)->Apply(shapes);

}  // namespace

BENCHMARK_MAIN();
