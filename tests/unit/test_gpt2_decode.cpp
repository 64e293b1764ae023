// The single-token decoding path of Gpt2Model::decode and its kernels: decoding a sequence
// token by token (through memory growth) gives the parallel form's logits; the fused
// kernels equal their decomposition into plain ops; the result does not depend on the
// thread count.
#include <gtest/gtest.h>

#include <cmath>

#include "common/expect_error.h"
#include "common/tensor_compare.h"
#include "sdnc/backend/cpu/attention.h"
#include "sdnc/backend/cpu/gemv.h"
#include "sdnc/backend/cpu/layer_norm.h"
#include "sdnc/models/gpt2.h"
#include "sdnc/sdnc.h"

namespace sdnc {
namespace {

using test::max_abs_diff;

Tensor randn(Shape s, Generator& g, double stddev = 1.0) {
  Tensor t = Tensor::empty(s);
  g.fill_normal(t, 0, stddev);
  return t;
}

// A small GPT-2 with every parameter random (biases and LayerNorm affine too), scaled so
// that activations and logits stay of order 1 at any width.
models::Gpt2Model random_model(const std::string& activation, int64_t positions, uint64_t seed, int64_t D = 32) {
  models::Gpt2Config c;
  c.vocab_size = 37, c.n_positions = positions, c.n_embd = D, c.n_layer = 2, c.n_head = 4, c.n_inner = 3 * D / 2;
  c.activation_function = activation;
  models::Gpt2Model m(c);
  Generator g(seed);
  for (auto& [name, p] : m.named_parameters()) {
    Tensor t = p;
    bool norm_weight = name.find("ln_") != std::string::npos && name.ends_with(".weight");
    g.fill_normal(t, norm_weight ? 1.0 : 0.0, norm_weight ? 0.1 : 0.8 / std::sqrt(double(D)));  // O(1) activations
  }
  return m;
}

Tensor random_tokens(Generator& g, int64_t B, int64_t T, int64_t V) {
  std::vector<int64_t> ids(B * T);
  for (auto& v : ids) v = g.randint(0, V);
  return Tensor::from_indices(ids, {B, T});
}

struct DecodeCase {
  std::string activation;
  int64_t batch, prompt, width = 32;
};

class Gpt2DecodeTokens : public ::testing::TestWithParam<DecodeCase> {};

// Prompt (one call), then one token per call up to T = 80 positions (D = 32 runs on the
// calling thread; D = 128 splits the columns between the threads): the memories start
// with 64 slots, so they grow while decoding. The oracle is the parallel form.
TEST_P(Gpt2DecodeTokens, TokenByTokenEqualsParallel) {
  const DecodeCase& k = GetParam();
  const int64_t T = 80;
  models::Gpt2Model m = random_model(k.activation, T, 11, k.width);
  Generator g(12);
  Tensor tokens = random_tokens(g, k.batch, T, m.config().vocab_size);
  NoGradGuard no_grad;
  Tensor parallel = m.logits(tokens);
  models::Gpt2Model::DecodeState state;
  std::vector<Tensor> parts = {m.decode(slice(tokens, 1, 0, k.prompt), state)};
  for (int64_t t = k.prompt; t < T; ++t) parts.push_back(m.decode(slice(tokens, 1, t, t + 1), state));
  EXPECT_EQ(state.position, T);
  if (k.batch == 1)  // one sequence decodes in place: the slot-major memory grew on the way
    EXPECT_GT(state.layers[0].memory.key_buffer.size(1), 64);
  Tensor decoded = concat(parts, 1);
  ASSERT_EQ(decoded.shape(), parallel.shape());
  double diff = max_abs_diff(decoded, parallel);
  std::printf("[%s D=%lld B=%lld prompt=%lld] max |decode - parallel| = %.3g\n", k.activation.c_str(),
              static_cast<long long>(k.width), static_cast<long long>(k.batch), static_cast<long long>(k.prompt), diff);
  EXPECT_LT(diff, 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Cases, Gpt2DecodeTokens,
                         ::testing::Values(DecodeCase{"gelu_new", 1, 1}, DecodeCase{"gelu_new", 1, 7},
                                           DecodeCase{"gelu_new", 3, 1}, DecodeCase{"gelu_new", 2, 5},
                                           DecodeCase{"relu", 2, 3}, DecodeCase{"gelu", 1, 4},
                                           DecodeCase{"gelu_new", 1, 3, 128}, DecodeCase{"gelu_new", 2, 1, 128},
                                           // more rows than a GEMV takes
                                           DecodeCase{"gelu_new", cpu::kGemvMaxRows + 1, 2}));

TEST(Gpt2Decode, RecurrentFormEqualsParallel) {
  models::Gpt2Model m = random_model("gelu_new", 20, 13);
  Generator g(14);
  Tensor tokens = random_tokens(g, 2, 20, m.config().vocab_size);
  NoGradGuard no_grad;
  EXPECT_LT(max_abs_diff(m.logits(tokens, models::Form::Recurrent), m.logits(tokens)), 1e-5);
}

TEST(Gpt2Decode, SameLogitsForOneAndTwoThreads) {
  // Wide enough (D = 128) for the single-token path to use both threads.
  models::Gpt2Model m = random_model("gelu_new", 40, 15, 128);
  Generator g(16);
  Tensor tokens = random_tokens(g, 2, 40, m.config().vocab_size);
  int before = num_threads();
  std::vector<std::vector<double>> runs;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    models::Gpt2Model::DecodeState state;
    std::vector<double> all;
    for (int64_t t = 0; t < 40; ++t)
      for (double v : m.decode(slice(tokens, 1, t, t + 1), state).to_doubles()) all.push_back(v);
    runs.push_back(all);
  }
  set_num_threads(before);
  EXPECT_EQ(runs[0], runs[1]);  // bit for bit: each output has one thread and one order
}

TEST(Gpt2Decode, BatchMustStayTheSame) {
  models::Gpt2Model m = random_model("gelu_new", 8, 17);
  models::Gpt2Model::DecodeState state;
  m.decode(Tensor::from_indices({1, 2}, {2, 1}), state);
  expect_error([&] { m.decode(Tensor::from_indices({3}, {1, 1}), state); }, "gpt2", "batch");
  EXPECT_EQ(state.position, 1);
}

// ---- kernels against their decomposition into ops ------------------------------------

TEST(Gemv, RowsTimesWeightEqualsMatmulPlusBiasThenEpilogue) {
  Generator g(21);
  for (int64_t M : {1, 3, 8, 11})
    for (auto [K, N] : {std::pair<int64_t, int64_t>{5, 7}, {32, 48}, {67, 300}, {256, 520}}) {
      Tensor x = randn({M, K}, g), W = randn({K, N}, g, 0.2), b = randn({N}, g), y0 = randn({M, N}, g);
      Tensor s = add(matmul(x, W), b);
      struct Case {
        cpu::RowEpilogue e;
        Tensor expect;
      };
      for (const Case& c : {Case{cpu::RowEpilogue::Store, s}, Case{cpu::RowEpilogue::Accumulate, add(y0, s)},
                            Case{cpu::RowEpilogue::Relu, relu(s)}, Case{cpu::RowEpilogue::Gelu, gelu(s)},
                            Case{cpu::RowEpilogue::GeluTanh, gelu(s, true)}}) {
        Tensor y = y0.clone();
        // In three column ranges, as three threads would split it.
        for (int p = 0; p < 3; ++p)
          cpu::rows_times_weight(M, K, N, x.data<float>(), K, W.data<float>(), b.data<float>(), y.data<float>(), N,
                                 cpu::column_split(N, 3, p), cpu::column_split(N, 3, p + 1), c.e);
        EXPECT_LT(max_abs_diff(y, c.expect), 2e-5) << "M=" << M << " K=" << K << " N=" << N << " e=" << int(c.e);
      }
    }
}

TEST(Gemv, RowsTimesTransposedWeightEqualsLinear) {
  Generator g(22);
  for (int64_t M : {1, 2, 8, 11})
    for (auto [K, N] : {std::pair<int64_t, int64_t>{5, 7}, {32, 37}, {256, 300}}) {
      Tensor x = randn({M, K}, g), W = randn({N, K}, g, 0.2), b = randn({N}, g);
      Tensor y = Tensor::zeros({M, N});
      for (int p = 0; p < 2; ++p)
        cpu::rows_times_weight_t(M, K, x.data<float>(), K, W.data<float>(), b.data<float>(), y.data<float>(), N,
                                 cpu::column_split(N, 2, p), cpu::column_split(N, 2, p + 1), cpu::RowEpilogue::Store);
      EXPECT_LT(max_abs_diff(y, linear(x, W, b)), 2e-5) << "M=" << M << " K=" << K << " N=" << N;
    }
}

TEST(Gemv, ColumnSplitCoversTheRangeOnLineBoundaries) {
  for (int64_t N : {1, 15, 16, 17, 256, 768, 1000})
    for (int64_t parts : {1, 2, 3, 5}) {
      EXPECT_EQ(cpu::column_split(N, parts, 0), 0);
      EXPECT_EQ(cpu::column_split(N, parts, parts), N);
      for (int64_t p = 1; p < parts; ++p) {
        int64_t s = cpu::column_split(N, parts, p);
        EXPECT_LE(cpu::column_split(N, parts, p - 1), s);
        EXPECT_TRUE(s % 16 == 0 || s == N);
      }
    }
}

TEST(AttentionOneQuery, EqualsAttentionForward) {
  Generator g(23);
  const int64_t Dh = 24, cap = 80;
  for (int64_t n : {1, 2, 5, 63, 64, 77}) {
    Tensor q = randn({1, 1, 1, Dh}, g), k = randn({1, 1, cap, Dh}, g), v = randn({1, 1, cap, Dh}, g);
    Tensor w = Tensor::empty({1, 1, 1, n}), expect = Tensor::empty({1, 1, 1, Dh});
    const double scale = 0.3;
    cpu::attention_forward(q, k, v, Tensor(), /*causal=*/false, scale, w, expect, n);
    std::vector<float> scores(n), out(Dh);
    cpu::attention_one_query(q.data<float>(), k.data<float>(), v.data<float>(), n, Dh, Dh, float(scale),
                             scores.data(), out.data());
    EXPECT_LT(max_abs_diff(Tensor::from_vector(out, {1, 1, 1, Dh}), expect), 1e-5) << "n=" << n;
  }
}

// G queries over one memory with tiled keys (grouped-query attention) = attention_forward per
// query on the row-major keys; slots past n in the last tile hold garbage that must not count.
TEST(AttentionTiledQueries, EqualsAttentionForwardPerQuery) {
  Generator g(25);
  const int64_t cap = 80;
  for (int64_t Dh : {8, 64})
    for (int64_t G : {1, 3, 4, 5, 9})
      for (int64_t n : {1, 2, 15, 16, 17, 63, 77}) {
        Tensor q = randn({1, G, 1, Dh}, g), k = randn({1, 1, cap, Dh}, g), v = randn({1, 1, cap, Dh}, g);
        const int64_t slots = (n + cpu::kKeyTile - 1) / cpu::kKeyTile * cpu::kKeyTile;
        std::vector<float> tiles(static_cast<size_t>(slots * Dh), 1e30f);  // unwritten slots: huge scores if read
        for (int64_t j = 0; j < n; ++j) cpu::write_tiled_key(tiles.data(), j, k.data<float>() + j * Dh, Dh);
        std::vector<float> scores(static_cast<size_t>(G * slots)), out(static_cast<size_t>(G * Dh));
        const double scale = 0.3;
        cpu::attention_tiled_queries(q.data<float>(), G, tiles.data(), v.data<float>(), n, Dh, Dh, float(scale),
                                     scores.data(), out.data());
        for (int64_t h = 0; h < G; ++h) {
          Tensor qh = Tensor::from_vector(std::vector<float>(q.data<float>() + h * Dh, q.data<float>() + (h + 1) * Dh),
                                          {1, 1, 1, Dh});
          Tensor w = Tensor::empty({1, 1, 1, n}), expect = Tensor::empty({1, 1, 1, Dh});
          cpu::attention_forward(qh, k, v, Tensor(), /*causal=*/false, scale, w, expect, n);
          Tensor got = Tensor::from_vector(std::vector<float>(out.begin() + h * Dh, out.begin() + (h + 1) * Dh),
                                           {1, 1, 1, Dh});
          EXPECT_LT(max_abs_diff(got, expect), 1e-5) << "Dh=" << Dh << " G=" << G << " n=" << n << " head " << h;
        }
      }
}

TEST(LayerNormRow, EqualsLayerNorm) {
  Generator g(24);
  for (int64_t D : {1, 7, 64, 300}) {
    Tensor x = randn({1, D}, g), w = randn({D}, g), b = randn({D}, g);
    x = add_scalar(x, 5.0);  // an offset: the two-pass statistics matter
    Tensor y = Tensor::empty({1, D});
    cpu::layer_norm_row(x.data<float>(), w.data<float>(), b.data<float>(), D, 1e-5, y.data<float>());
    EXPECT_LT(max_abs_diff(y, layer_norm(x, w, b, 1e-5)), 1e-5) << "D=" << D;
  }
}

}  // namespace
}  // namespace sdnc
