// backend/cpu/packed_gemm.cpp — the packed small-M product (layout in the header).
#include "sdnc/backend/cpu/packed_gemm.h"

#include <algorithm>
#include <array>
#include <utility>

#include "sdnc/core/error.h"
#include "sdnc/core/parallel.h"
#include "sdnc/core/weight_arena.h"
#include "sdnc/core/worker_team.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SDNC_PACKED_GEMM_X86 1
#define SDNC_TARGET_AVX512F __attribute__((target("avx512f")))
#endif

namespace sdnc::cpu {

namespace {

constexpr int64_t kPanel = PackedWeight::kPanel;
constexpr int64_t kBlockRows = 16;  // rows whose sums one panel keeps in registers (16 of 32 zmm)
// Multiply-adds a product must hold before other threads help, and a block of panels that one
// thread takes at a time holds at least kMinBlock.
constexpr int64_t kMinShare = int64_t{1} << 20, kMinBlock = int64_t{1} << 17;
// How far ahead (in panel rows of 64 bytes) the stream of weights is prefetched, into L1 and,
// further, into L2: past a panel's end it is the next panel's start, which follows in memory.
// (Measured on MiniLM's weights streamed from memory, M = 14: 64 alone 64–65 GFLOP/s, with
// 256 into L2 70–71; 32 / 96 / 128 alone were slower than 64.)
constexpr int64_t kPrefetchRows = 64, kPrefetchRowsL2 = 256;

#if defined(SDNC_PACKED_GEMM_X86)
// One panel × R rows: y[r, 0..width) = Σ_k x[r, k] · panel[k, ·] + bias.
template <int R>
SDNC_TARGET_AVX512F void panel_rows(const float* x, int64_t ldx, const float* panel, int64_t K, const float* bias,
                                    float* y, int64_t ldy, int64_t width) {
  __m512 acc[R];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
  const uintptr_t stream = reinterpret_cast<uintptr_t>(panel);
  for (int64_t k = 0; k < K; ++k) {
    // (Addresses as integers: the prefetch may point past the buffer, which it never faults on.)
    _mm_prefetch(reinterpret_cast<const char*>(stream + (k + kPrefetchRows) * kPanel * sizeof(float)), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(stream + (k + kPrefetchRowsL2) * kPanel * sizeof(float)), _MM_HINT_T1);
    const __m512 w = _mm512_load_ps(panel + k * kPanel);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(x[r * ldx + k]), w, acc[r]);
  }
  const __mmask16 mask = width == kPanel ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << width) - 1);
  const __m512 b = bias ? _mm512_maskz_loadu_ps(mask, bias) : _mm512_setzero_ps();
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) _mm512_mask_storeu_ps(y + r * ldy, mask, _mm512_add_ps(acc[r], b));
}

using PanelRows = void (*)(const float*, int64_t, const float*, int64_t, const float*, float*, int64_t, int64_t);
template <size_t... I>
constexpr std::array<PanelRows, sizeof...(I)> panel_rows_table(std::index_sequence<I...>) {
  return {&panel_rows<static_cast<int>(I) + 1>...};
}
constexpr auto kPanelRows = panel_rows_table(std::make_index_sequence<kBlockRows>{});
#endif

}  // namespace

bool packed_gemm_available() {
#if defined(SDNC_PACKED_GEMM_X86)
  static const bool avx512f = __builtin_cpu_supports("avx512f");
  return avx512f;
#else
  return false;
#endif
}

PackedWeight pack_weight(const float* W, int64_t N, int64_t K) {
  SDNC_CHECK(N > 0 && K > 0, "packed_gemm", "cannot pack a [{}, {}] weight", N, K);
  PackedWeight p;
  p.K = K, p.N = N;
  const int64_t panels = (N + kPanel - 1) / kPanel;
  // From huge pages where the system gives them: the kernel streams the panels from memory.
  p.panels = weight_arena_alloc(static_cast<size_t>(panels * K * kPanel) * sizeof(float));  // zeroed
  float* dst = static_cast<float*>(p.panels.get());
  for (int64_t o = 0; o < N; ++o)
    for (int64_t k = 0; k < K; ++k) dst[(o / kPanel * K + k) * kPanel + o % kPanel] = W[o * K + k];
  return p;
}

void packed_gemm(int64_t M, const float* x, int64_t ldx, const PackedWeight& W, const float* bias, float* y,
                 int64_t ldy) {
  SDNC_CHECK(packed_gemm_available(), "packed_gemm", "this CPU has no AVX-512F: use gemm()");
  if (M <= 0) return;
#if defined(SDNC_PACKED_GEMM_X86)
  const int64_t K = W.K, N = W.N, panels = (N + kPanel - 1) / kPanel;
  const float* base = W.data();
  const int64_t blocks = (M + kBlockRows - 1) / kBlockRows;  // balanced: 20 rows → 10 + 10
  auto run_panels = [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t o = p * kPanel, width = std::min(kPanel, N - o);
      for (int64_t b = 0; b < blocks; ++b) {
        const int64_t m0 = M * b / blocks, rows = M * (b + 1) / blocks - m0;
        kPanelRows[static_cast<size_t>(rows - 1)](x + m0 * ldx, ldx, base + p * K * kPanel, K,
                                                   bias ? bias + o : nullptr, y + m0 * ldy + o, ldy, width);
      }
    }
  };
  // Threads take blocks of panels from the worker team (core/worker_team.h): under
  // OMP_WAIT_POLICY=passive its own helpers, as a sleeping OpenMP team's wake-up costs as much
  // as a product of 16 rows; otherwise OpenMP's threads, which the rest of the step uses too.
  const int64_t per_block = std::max<int64_t>(1, kMinBlock / (M * K * kPanel));
  const int64_t panel_blocks = (panels + per_block - 1) / per_block;
  if (num_threads() == 1 || panel_blocks < 2 || M * N * K < kMinShare) return run_panels(0, panels);
  WorkerTeam::shared()->run({panel_blocks}, [&](int64_t, int64_t b, int) {
    run_panels(b * per_block, std::min(panels, (b + 1) * per_block));
  });
#else
  (void)x, (void)ldx, (void)W, (void)bias, (void)y, (void)ldy;
#endif
}

}  // namespace sdnc::cpu
