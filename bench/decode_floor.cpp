// decode_floor — the memory-bound floor of one T2 decoding step (B = 1): the time to read
// every weight of the T1 model once (4 layers × c_attn, c_proj, c_fc, mlp.c_proj in the
// Conv1D [in, out] layout, 12.6 MB of F32, plus the tied output table) through
//   gemv   cpu::rows_times_weight, M = 1, whole rows on one thread; with more threads the
//          columns are cut in blocks of 256 (128 where N < 512) taken in turn, as the
//          decode path cuts them;
//   gemm   cpu::gemm (oneDNN sgemm) at M = 1;
// and the attention reads of the write-once memory at the average T2 length (384 slots), in
// two layouts: head-major ([H, slots, Dh] per layer, cpu::attention_one_query per head: the
// floor) and slot-major ([slots, H·Dh] per layer, cpu::slot_read: the memory the decode op
// reads in place), timed in alternation so both see the same machine.
// Prints µs per step (median and best run) and GB/s of the best run; floor_tokens_per_s =
// 1 / (best gemv + the best read of the two layouts): what the kernels take alone, once per
// byte. At 2 threads the sweep is an OpenMP region with a barrier per matrix (under
// OMP_WAIT_POLICY=PASSIVE the waiters sleep), which the decode op's worker team outruns: there
// it is a measurement of the sweep, not a floor.
// The same for the matrices packed to BF16 and int8 (cpu::row_times_packed, one thread):
// <format>_best_us, and <format>_floor_tokens_per_s = 1 / (packed bytes at the F32 sweep's best
// GB/s + best attention): the floor of each format's bytes at the rate F32 weights stream.
//
//   decode_floor [--threads N] [--reps N]
#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "sdnc/backend/cpu/attention.h"
#include "sdnc/backend/cpu/gemm.h"
#include "sdnc/backend/cpu/gemv.h"
#include "sdnc/backend/cpu/gemv_lowp.h"
#include "sdnc/backend/cpu/slot_read.h"
#include "sdnc/core/parallel.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int64_t D = 256, F = 1024, L = 4, V = 256, H = 4, Dh = D / H, kSlots = 384;

struct Matrix {
  int64_t K, N;
  std::vector<float> w, b;
};

// {median, best} µs over reps runs after 3 unmeasured ones. On a shared machine the best
// run is the one closest to the hardware's limit.
template <class Fn>
std::pair<double, double> time_us(int reps, Fn&& f) {
  std::vector<double> t;
  for (int i = 0; i < reps + 3; ++i) {
    auto t0 = Clock::now();
    f();
    if (i >= 3) t.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return {t[t.size() / 2], t[0]};
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, reps = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--threads") threads = std::stoi(argv[i + 1]);
    else if (a == "--reps") reps = std::stoi(argv[i + 1]);
  }
  sdnc::set_num_threads(threads);
  std::vector<Matrix> mats;
  for (int64_t l = 0; l < L; ++l)
    for (auto [K, N] : {std::pair{D, 3 * D}, {D, D}, {D, F}, {F, D}}) {
      Matrix m{K, N, std::vector<float>(K * N), std::vector<float>(N, 0.01f)};
      for (size_t i = 0; i < m.w.size(); ++i) m.w[i] = 0.02f * std::sin(0.37f * float(i));
      mats.push_back(std::move(m));
    }
  std::vector<float> table(V * D, 0.01f), x(F, 0.5f), y(F), logits(V);
  double weight_mb = V * D * 4e-6;
  for (auto& m : mats) weight_mb += m.K * m.N * 4e-6;

  auto gemv = [&] {
#pragma omp parallel num_threads(threads)
    {
      const int p = omp_get_thread_num(), np = omp_get_num_threads();
      for (auto& m : mats) {
        const int64_t kCols = np == 1 ? m.N : m.N >= 512 ? 256 : 128;
        for (int64_t b = p; b * kCols < m.N; b += np)
          sdnc::cpu::rows_times_weight(1, m.K, m.N, x.data(), m.K, m.w.data(), m.b.data(), y.data(), m.N, b * kCols,
                                       std::min(m.N, (b + 1) * kCols), sdnc::cpu::RowEpilogue::Store);
#pragma omp barrier
      }
      const int64_t kCols = np == 1 ? V : 128;
      for (int64_t b = p; b * kCols < V; b += np)
        sdnc::cpu::rows_times_weight_t(1, D, x.data(), D, table.data(), nullptr, logits.data(), V, b * kCols,
                                       std::min(V, (b + 1) * kCols), sdnc::cpu::RowEpilogue::Store);
    }
  };
  auto gemm = [&] {
    for (auto& m : mats)
      sdnc::cpu::gemm(false, false, 1, m.N, m.K, 1.f, x.data(), m.K, m.w.data(), m.N, 0.f, y.data(), m.N);
    sdnc::cpu::gemm(false, true, 1, V, D, 1.f, x.data(), D, table.data(), D, 0.f, logits.data(), V);
  };
  // The memory: L layers × H heads × 384 slots of keys and values.
  std::vector<float> keys(L * H * kSlots * Dh, 0.1f), values(L * H * kSlots * Dh, 0.2f), q(Dh, 0.3f);
  std::vector<float> scores(threads * kSlots), reads(L * H * Dh);
  auto attention = [&] {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t lh = 0; lh < L * H; ++lh)
      sdnc::cpu::attention_one_query(q.data(), keys.data() + lh * kSlots * Dh, values.data() + lh * kSlots * Dh, kSlots,
                                     Dh, Dh, 0.125f, scores.data() + omp_get_thread_num() * kSlots,
                                     reads.data() + lh * Dh);
  };
  // The same memory slot-major, read by the decode op's kernel on this thread.
  std::vector<float> slot_keys(L * kSlots * D, 0.1f), slot_values(L * kSlots * D, 0.2f), q_all(D, 0.3f);
  std::vector<float> chunk_scores(H * sdnc::cpu::kSlotChunk), partial(sdnc::cpu::slot_chunks(kSlots) * D),
      stats(sdnc::cpu::slot_chunks(kSlots) * 2 * H);
  const sdnc::cpu::SlotReadShape shape{H, H, Dh, 0.125f};
  auto slot_major = [&] {
    for (int64_t l = 0; l < L; ++l)
      sdnc::cpu::slot_read(shape, q_all.data(), slot_keys.data() + l * kSlots * D, slot_values.data() + l * kSlots * D,
                           kSlots, chunk_scores.data(), partial.data(), stats.data(), reads.data());
  };
  const double memory_mb = 2.0 * L * H * kSlots * Dh * 4e-6;
  // The matrices packed, swept by the packed kernel on this thread.
  std::vector<std::pair<sdnc::cpu::WeightFormat, std::vector<sdnc::cpu::PackedMatrix>>> packed;
  for (auto f : {sdnc::cpu::WeightFormat::BF16, sdnc::cpu::WeightFormat::Int8}) {
    std::vector<sdnc::cpu::PackedMatrix> ms;
    for (auto& m : mats) ms.push_back(sdnc::cpu::pack_matrix(m.w.data(), m.K, m.N, true, f));
    ms.push_back(sdnc::cpu::pack_matrix(table.data(), D, V, false, f));
    packed.emplace_back(f, std::move(ms));
  }
  auto [tg, tg_best] = time_us(reps, gemv);
  auto [tb, tb_best] = time_us(reps, gemm);
  // The two layouts in alternation (head-major, slot-major, ...), each after a sweep of the
  // weights as in a decoding step, so neither finds the other's memory in cache.
  std::vector<double> t_head, t_slot;
  for (int i = 0; i < reps + 3; ++i)
    for (int which = 0; which < 2; ++which) {
      gemv();
      auto t0 = Clock::now();
      if (which == 0) attention();
      else if (threads == 1) slot_major();
      const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
      if (i >= 3) (which == 0 ? t_head : t_slot).push_back(us);
    }
  std::sort(t_head.begin(), t_head.end());
  std::sort(t_slot.begin(), t_slot.end());
  const double ta = t_head[t_head.size() / 2], ta_best = t_head[0];
  const double ts = t_slot[t_slot.size() / 2], ts_best = t_slot[0];
  // The faster of the two layouts' reads (the slot-major one is timed at 1 thread only).
  const double read_best = threads == 1 ? std::min(ta_best, ts_best) : ta_best;
  std::string formats;
  for (auto& [f, ms] : packed) {
    double bytes = 0;
    for (auto& m : ms) bytes += m.bytes();
    auto sweep = [&] {
      for (size_t i = 0; i + 1 < ms.size(); ++i)
        sdnc::cpu::row_times_packed(x.data(), ms[i], mats[i].b.data(), y.data(), 0, ms[i].N,
                                    sdnc::cpu::RowEpilogue::Store);
      sdnc::cpu::row_times_packed(x.data(), ms.back(), nullptr, logits.data(), 0, V, sdnc::cpu::RowEpilogue::Store);
    };
    auto [tp, tp_best] = time_us(reps, sweep);
    const char* name = sdnc::cpu::weight_format_name(f);
    const double floor_us = bytes * 1e-6 / (weight_mb / tg_best * 1e3) * 1e3;  // bytes at the F32 sweep's GB/s
    formats += fmt::format("\"{0}_mb\": {1:.2f}, \"{0}_us\": {2:.0f}, \"{0}_best_us\": {3:.0f}, "
                           "\"{0}_floor_tokens_per_s\": {4:.0f}, ", name, bytes * 1e-6, tp, tp_best,
                           1e6 / (floor_us + read_best));
  }
  fmt::print("{{\"threads\": {}, {} \"weights_mb\": {:.2f}, \"memory_mb\": {:.2f}, "
             "\"gemv_us\": {:.0f}, \"gemv_best_us\": {:.0f}, \"gemv_best_gb_s\": {:.1f}, "
             "\"gemm_m1_us\": {:.0f}, \"gemm_m1_best_us\": {:.0f}, "
             "\"attention_us\": {:.0f}, \"attention_best_us\": {:.0f}, \"attention_best_gb_s\": {:.1f}, "
             "\"slot_major_us\": {:.0f}, \"slot_major_best_us\": {:.0f}, \"slot_major_vs_head_major\": {:.3f}, "
             "\"floor_tokens_per_s\": {:.0f}}}\n",
             threads, formats, weight_mb, memory_mb, tg, tg_best, weight_mb / tg_best * 1e3, tb, tb_best, ta, ta_best,
             memory_mb / ta_best * 1e3, ts, ts_best, threads == 1 ? ts / ta : 0.0, 1e6 / (tg_best + read_best));
  return 0;
}
