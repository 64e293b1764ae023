#include "sdnc/backend/cpu/dnc_addressing.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <type_traits>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "sdnc/backend/cpu/simd_math.h"
#include "sdnc/core/parallel.h"

namespace sdnc::cpu {

namespace {

constexpr double kEps = 1e-6;  // DeepMind's _EPSILON (DNC.md A.11)

// ---- layouts -------------------------------------------------------------------------------

// Offsets into one batch element's interface vector [I] (raw, or activated in `act`).
struct InterfaceLayout {
  int64_t v, e, f, ga, gw, pi, kw, bw, kr, br, I;
  explicit InterfaceLayout(const DncDims& d) {
    const int64_t HW = d.H * d.W;
    v = 0, e = v + HW, f = e + HW, ga = f + d.R, gw = ga + d.H, pi = gw + d.H;
    kw = pi + (d.links ? d.R * (1 + 2 * d.H) : 0);
    bw = kw + HW, kr = bw + (d.cosine ? d.H : 0), br = kr + d.R * d.W, I = br + (d.cosine ? d.R : 0);
  }
};

// Offsets into one batch element's saved values [S].
struct SavedLayout {
  int64_t act, cw, Dw, nkw, nmw, cr, Dr, nkr, nm, ubar, alloc, fw, bw, S;
  explicit SavedLayout(const DncDims& d) {
    const int64_t N = d.N, R = d.R, H = d.H;
    act = 0;
    cw = act + InterfaceLayout(d).I;  // write content weights [H, N]
    Dw = cw + H * N;                  // write similarities [H, N]
    nkw = Dw + H * N;                 // write key norms [H]
    nmw = nkw + H;                    // norms of the old memory rows [N]
    cr = nmw + N;                     // read content weights [R, N]
    Dr = cr + R * N;                  // read similarities [R, N]
    nkr = Dr + R * N;                 // read key norms [R]
    nm = nkr + R;                     // norms of the new memory rows [N]
    ubar = nm + N;                    // simulated usage seen by each head's allocation [H, N]
    alloc = ubar + H * N;             // allocation weights [H, N]
    fw = alloc + H * N;               // forward weights [R, H, N] (links only)
    bw = fw + (d.links ? R * H * N : 0);  // backward weights [R, H, N] (links only)
    S = bw + (d.links ? R * H * N : 0);
  }
};

// ---- small vector helpers ------------------------------------------------------------------

template <class T> inline T dot(const T* a, const T* b, int64_t n) {
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

#if defined(__AVX512F__)
// F32 with n a multiple of 16 (the DNC's word sizes): two chains of 16-lane FMAs and one tree
// sum (the generic loop's reduction epilogue stored the vector and added its lanes one by one).
template <> inline float dot<float>(const float* a, const float* b, int64_t n) {
  if (n % 16 != 0) {
    float s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
    return s;
  }
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
  }
  if (i < n) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}
#endif

template <class T> inline void axpy(T a, const T* x, T* y, int64_t n) {  // y += a·x
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// out [W] = Σ_n w[n]·rows[n, :] over rows [N, W], summed in n order (as N axpys would).
template <class T> void weighted_rows(const T* w, const T* rows, int64_t N, int64_t W, T* out) {
  int64_t c = 0;
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    // up to 64 columns at a time in four registers across all N rows (the axpys stored and
    // reloaded the output row once per row: a store-to-load chain)
    for (; c + 16 <= W; c += 64) {
      const int64_t v = std::min<int64_t>(4, (W - c) / 16);
      __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
      for (int64_t n = 0; n < N; ++n) {
        const __m512 wn = _mm512_set1_ps(w[n]);
        const float* r = rows + n * W + c;
        for (int64_t k = 0; k < v; ++k) acc[k] = _mm512_fmadd_ps(wn, _mm512_loadu_ps(r + 16 * k), acc[k]);
      }
      for (int64_t k = 0; k < v; ++k) _mm512_storeu_ps(out + c + 16 * k, acc[k]);
      if (v < 4) {
        c += 16 * v;
        break;
      }
    }
  }
#endif
  if (c >= W) return;
  std::fill(out + c, out + W, T(0));
  for (int64_t n = 0; n < N; ++n) axpy(w[n], rows + n * W + c, out + c, W - c);
}

template <class T> inline T sigmoid(T x) {
  T e = exp_fast(-std::fabs(x));
  T r = T(1) / (T(1) + e);
  return x >= T(0) ? r : e * r;
}

// An unsigned integer that orders as −x does (smaller for a larger float x; NaN aside).
inline uint32_t descending_bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);  // now ascending in x
  return ~u;
}

template <class T> inline T softplus(T x) { return std::max(x, T(0)) + std::log1p(std::exp(-std::fabs(x))); }

// C[n] = softmax(z)[n] over one row of N scores (C may be z)
template <class T> void softmax_row(const T* z, int64_t N, T* C) {
  T mx = -std::numeric_limits<T>::infinity();
  for (int64_t n = 0; n < N; ++n) mx = std::max(mx, z[n]);
  T sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t n = 0; n < N; ++n) sum += (C[n] = exp_fast(z[n] - mx));
  T inv = T(1) / sum;
  for (int64_t n = 0; n < N; ++n) C[n] *= inv;
}

// ---- content weights (DNC.md A.3) -------------------------------------------------------------
// norms: ‖x‖ = √(Σx² + ε); D[k,n] = k·M[n] / (‖k‖‖M[n]‖ + ε); C[k,·] = softmax(β_k·D[k,·]).

template <class T> void row_norms(const T* x, int64_t K, int64_t W, T* out) {  // x [K, W] → out [K]
  for (int64_t k = 0; k < K; ++k) out[k] = std::sqrt(dot(x + k * W, x + k * W, W) + T(kEps));
}

// M [N, W], nm [N], keys [K, W], beta [K] → nk [K], D [K, N], C [K, N]
template <class T>
void cosine_forward(const T* M, const T* nm, const T* keys, const T* beta, int64_t K, int64_t N, int64_t W, T* nk,
                    T* D, T* C) {
  row_norms(keys, K, W, nk);
  for (int64_t k = 0; k < K; ++k) {
    const T* key = keys + k * W;
    T* Dk = D + k * N;
    T* Ck = C + k * N;
    for (int64_t n = 0; n < N; ++n) {
      Dk[n] = dot(key, M + n * W, W) / (nk[k] * nm[n] + T(kEps));
      Ck[n] = beta[k] * Dk[n];
    }
    softmax_row(Ck, N, Ck);
  }
}

// The backward of cosine_forward: dC [K, N] → dM [N, W] +=, dkeys [K, W] +=, dbeta [K] +=.
// dnm [N] is scratch.
template <class T>
void cosine_backward(const T* M, const T* nm, const T* keys, const T* beta, const T* nk, const T* D, const T* C,
                     const T* dC, int64_t K, int64_t N, int64_t W, T* dM, T* dkeys, T* dbeta, T* dnm) {
  std::fill(dnm, dnm + N, T(0));
  for (int64_t k = 0; k < K; ++k) {
    const T* key = keys + k * W;
    const T *Dk = D + k * N, *Ck = C + k * N, *dCk = dC + k * N;
    T* dkey = dkeys + k * W;
    T s = dot(Ck, dCk, N), db = 0, dnk = 0;
    for (int64_t n = 0; n < N; ++n) {
      T dz = Ck[n] * (dCk[n] - s);  // softmax
      db += dz * Dk[n];
      T dD = dz * beta[k];
      T den = nk[k] * nm[n] + T(kEps);
      T ddot = dD / den, dden = -dD * Dk[n] / den;
      dnk += dden * nm[n];
      dnm[n] += dden * nk[k];
      const T* m = M + n * W;
      T* dm = dM + n * W;
#pragma omp simd
      for (int64_t w = 0; w < W; ++w) {
        dkey[w] += ddot * m[w];
        dm[w] += ddot * key[w];
      }
    }
    dbeta[k] += db;
    axpy(dnk / nk[k], key, dkey, W);
  }
  for (int64_t n = 0; n < N; ++n) axpy(dnm[n] / nm[n], M + n * W, dM + n * W, W);
}

// ---- scaled dot-product content weights (similarity=dot) --------------------------------------
// D[k,n] = k·M[n]/√W; C[k,·] = softmax(D[k,·]).

// M [N, W], keys [K, W] → D [K, N], C [K, N]
template <class T> void dot_forward(const T* M, const T* keys, int64_t K, int64_t N, int64_t W, T* D, T* C) {
  const T scale = T(1) / std::sqrt(static_cast<T>(W));
  for (int64_t k = 0; k < K; ++k) {
    const T* key = keys + k * W;
    T* Dk = D + k * N;
    T* Ck = C + k * N;
    for (int64_t n = 0; n < N; ++n) Dk[n] = dot(key, M + n * W, W) * scale;
    softmax_row(Dk, N, Ck);
  }
}

// The backward of dot_forward: dC [K, N] → dM [N, W] +=, dkeys [K, W] +=.
template <class T>
void dot_backward(const T* M, const T* keys, const T* C, const T* dC, int64_t K, int64_t N, int64_t W, T* dM,
                  T* dkeys) {
  const T scale = T(1) / std::sqrt(static_cast<T>(W));
  for (int64_t k = 0; k < K; ++k) {
    const T* key = keys + k * W;
    const T *Ck = C + k * N, *dCk = dC + k * N;
    T* dkey = dkeys + k * W;
    T s = dot(Ck, dCk, N);
    for (int64_t n = 0; n < N; ++n) {
      const T g = Ck[n] * (dCk[n] - s) * scale;
      const T* m = M + n * W;
      T* dm = dM + n * W;
#pragma omp simd
      for (int64_t w = 0; w < W; ++w) {
        dkey[w] += g * m[w];
        dm[w] += g * key[w];
      }
    }
  }
}

// ---- erase and add (DNC.md A.5): M = M₀∘Π_h(1 − w_h e_hᵀ) + Σ_h w_h a_hᵀ ------------------------

// M0 [N, W], ww [H, N], e [H, W], a [H, W] → M [N, W]
template <class T>
void erase_add_forward(const T* M0, const T* ww, const T* e, const T* a, int64_t N, int64_t W, int64_t H, T* M) {
  for (int64_t n = 0; n < N; ++n) {
    const T* m0 = M0 + n * W;
    T* m = M + n * W;
    for (int64_t w = 0; w < W; ++w) m[w] = m0[w];
    for (int64_t h = 0; h < H; ++h) {
      T wh = ww[h * N + n];
      const T* eh = e + h * W;
#pragma omp simd
      for (int64_t w = 0; w < W; ++w) m[w] *= T(1) - wh * eh[w];
    }
    // M₀∘keep + Σ_h w_h a_h (the same grouping as the composed path)
    if (H == 1) {
      axpy(ww[n], a, m, W);
    } else {
      for (int64_t w = 0; w < W; ++w) {
        T add = 0;
        for (int64_t h = 0; h < H; ++h) add += ww[h * N + n] * a[h * W + w];
        m[w] += add;
      }
    }
  }
}

// The backward of erase_add_forward: dM [N, W] → dM0 [N, W] (=), de [H, W] +=, da [H, W] +=,
// dww [H, N] +=. keep and others [W] are scratch.
template <class T>
void erase_add_backward(const T* M0, const T* ww, const T* e, const T* a, const T* dM, int64_t N, int64_t W,
                        int64_t H, T* dM0, T* de, T* da, T* dww, T* keep, T* others) {
  for (int64_t n = 0; n < N; ++n) {
    const T* m0 = M0 + n * W;
    const T* dm = dM + n * W;
    T* dm0 = dM0 + n * W;
    std::fill(keep, keep + W, T(1));
    for (int64_t h = 0; h < H; ++h) {
      const T wh = ww[h * N + n];
      const T* eh = e + h * W;
#pragma omp simd
      for (int64_t w = 0; w < W; ++w) keep[w] *= T(1) - wh * eh[w];
    }
#pragma omp simd
    for (int64_t w = 0; w < W; ++w) dm0[w] = dm[w] * keep[w];
    for (int64_t h = 0; h < H; ++h) {
      std::fill(others, others + W, T(1));  // Π over the other heads: no division
      for (int64_t k = 0; k < H; ++k) {
        if (k == h) continue;
        const T wk = ww[k * N + n];
        const T* ek = e + k * W;
#pragma omp simd
        for (int64_t w = 0; w < W; ++w) others[w] *= T(1) - wk * ek[w];
      }
      const T wh = ww[h * N + n];
      const T *eh = e + h * W, *ah = a + h * W;
      T* deh = de + h * W;
      T* dah = da + h * W;
      T dwh = 0;
#pragma omp simd reduction(+ : dwh)
      for (int64_t w = 0; w < W; ++w) {
        const T dq = dm[w] * m0[w] * others[w];
        dwh += dm[w] * ah[w] - dq * eh[w];
        deh[w] -= dq * wh;
        dah[w] += dm[w] * wh;
      }
      dww[h * N + n] += dwh;
    }
  }
}

// ---- one batch element -----------------------------------------------------------------------

template <class T>
struct Kernel {
  const DncDims& d;
  InterfaceLayout il;
  SavedLayout sl;
  int64_t N, W, R, H;
  explicit Kernel(const DncDims& dims) : d(dims), il(dims), sl(dims), N(dims.N), W(dims.W), R(dims.R), H(dims.H) {}

  // Pointers to one batch element's state.
  struct State {  // a part the dials do not have is nullptr
    T *M, *wr, *ww, *L, *p, *u, *V;
  };
  State state_at(const DncStateTensors& s, int64_t b) const {
    auto at = [&](int part, int64_t size) { return s[part].defined() ? s[part].data<T>() + b * size : nullptr; };
    return {at(kDncMemory, N * W), at(kDncReadWeights, R * N), at(kDncWriteWeights, H * N), at(kDncLink, H * N * N),
            at(kDncPrecedence, H * N),      at(kDncUsage, N),           at(kDncValues, N * W)};
  }

  // content weights of keys [K, W] (strengths beta [K], cosine only) on M [N, W]: the norms
  // nm [N] and nk [K] (cosine only), the similarities D [K, N] and the weights C [K, N]
  void content_forward(const T* M, T* nm, const T* keys, const T* beta, int64_t K, T* nk, T* D, T* C) const {
    if (!d.cosine) return dot_forward(M, keys, K, N, W, D, C);
    row_norms(M, N, W, nm);
    cosine_forward(M, nm, keys, beta, K, N, W, nk, D, C);
  }
  // its backward: dC → dM +=, dkeys +=, dbeta += (cosine only); dnm [N] is scratch
  void content_backward(const T* M, const T* nm, const T* keys, const T* beta, const T* nk, const T* D, const T* C,
                        const T* dC, int64_t K, T* dM, T* dkeys, T* dbeta, T* dnm) const {
    if (!d.cosine) return dot_backward(M, keys, C, dC, K, N, W, dM, dkeys);
    cosine_backward(M, nm, keys, beta, nk, D, C, dC, K, N, W, dM, dkeys, dbeta, dnm);
  }

  // raw [I] → act [I] (σ, softmax per read head, softplus(+1) strengths)
  void activate(const T* raw, T* act) const {
    std::copy(raw, raw + il.I, act);
    for (int64_t i = il.e; i < il.e + H * W; ++i) act[i] = sigmoid(raw[i]);
    for (int64_t i = il.f; i < il.pi; ++i) act[i] = sigmoid(raw[i]);  // free, allocation, write gates
    const int64_t P = 1 + 2 * H;
    for (int64_t r = 0; r < R && d.links; ++r) {
      T* row = act + il.pi + r * P;
      T mx = *std::max_element(row, row + P), sum = 0;
      for (int64_t k = 0; k < P; ++k) sum += (row[k] = std::exp(row[k] - mx));
      for (int64_t k = 0; k < P; ++k) row[k] /= sum;
    }
    if (!d.cosine) return;
    const T one = d.oneplus ? T(1) : T(0);
    for (int64_t h = 0; h < H; ++h) act[il.bw + h] = softplus(raw[il.bw + h]) + one;
    for (int64_t r = 0; r < R; ++r) act[il.br + r] = softplus(raw[il.br + r]) + one;
  }

  // ---- forward (DNC.md "Order of one step") -----------------------------------------------
  void forward(const T* raw, const State& in, const State& out, T* words, T* sv, int32_t* order,
               std::vector<int32_t>& idx, std::vector<uint64_t>& key) const {
    T* act = sv + sl.act;
    activate(raw, act);
    const T *v = act + il.v, *e = act + il.e, *f = act + il.f, *ga = act + il.ga, *gw = act + il.gw;
    const T* pi = act + il.pi;
    // usage: u = (u₀ + (1 − u₀)·ŵ)·ψ, ŵ = 1 − Π_h(1 − wʷ₀), ψ = Π_r(1 − f_r·wʳ₀)
    for (int64_t n = 0; n < N; ++n) {
      T keep = 1, psi = 1;
      for (int64_t h = 0; h < H; ++h) keep *= T(1) - in.ww[h * N + n];
      for (int64_t r = 0; r < R; ++r) psi *= T(1) - f[r] * in.wr[r * N + n];
      T u0 = in.u[n];
      out.u[n] = (u0 + (T(1) - u0) * (T(1) - keep)) * psi;
    }
    // write content on the old memory
    content_forward(in.M, sv + sl.nmw, act + il.kw, act + il.bw, H, sv + sl.nkw, sv + sl.Dw, sv + sl.cw);
    // allocation, head by head, on the simulated usage ū
    T* ubar = sv + sl.ubar;
    T* alloc = sv + sl.alloc;
    std::copy(out.u, out.u + N, ubar);
    for (int64_t h = 0; h < H; ++h) {
      const T* uh = ubar + h * N;
      T* ah = alloc + h * N;
      int32_t* ord = order + h * N;
      // Stable descending sort of the float32 keys: sort (order-preserving bits of −key, slot)
      // pairs ascending, so equal keys keep the lower slot first (tf.nn.top_k's rule).
      for (int64_t i = 0; i < N; ++i)
        key[i] = (uint64_t{descending_bits(dnc_allocation_sort_key(static_cast<double>(uh[i])))} << 32) |
                 static_cast<uint32_t>(i);
      std::sort(key.begin(), key.end());
      for (int64_t j = 0; j < N; ++j) idx[j] = static_cast<int32_t>(key[j] & 0xffffffffu);
      T prod = 1;
      for (int64_t j = 0; j < N; ++j) {
        int32_t i = ord[j] = idx[j];
        T nonusage = T(1) - (uh[i] * T(1 - kEps) + T(kEps));
        ah[i] = nonusage * prod;
        prod *= T(1) - nonusage;
      }
      if (h + 1 < H) {
        T g = ga[h] * gw[h];
        for (int64_t i = 0; i < N; ++i) ubar[(h + 1) * N + i] = uh[i] + (T(1) - uh[i]) * g * ah[i];
      }
    }
    // write weights
    const T* cw = sv + sl.cw;
    for (int64_t h = 0; h < H; ++h)
      for (int64_t n = 0; n < N; ++n)
        out.ww[h * N + n] = gw[h] * (ga[h] * alloc[h * N + n] + (T(1) - ga[h]) * cw[h * N + n]);
    // erase (product over heads), then add (sum over heads): the key memory receives the write
    // keys (separate) or the write vectors (shared); a value memory the write vectors
    erase_add_forward(in.M, out.ww, e, d.separate ? act + il.kw : v, N, W, H, out.M);
    if (d.separate) erase_add_forward(in.V, out.ww, e, v, N, W, H, out.V);
    // link (old precedence), directional weights (new link, old read weights), precedence
    T* fw = sv + sl.fw;
    T* bwd = sv + sl.bw;
    if (d.links) std::fill(bwd, bwd + R * H * N, T(0));
    for (int64_t h = 0; h < H && d.links; ++h) {
      const T* w = out.ww + h * N;
      const T* p0 = in.p + h * N;
      if (!link_forward_fused(h, w, p0, in, out, fw, bwd)) {
        for (int64_t i = 0; i < N; ++i) {
          const T* l0 = in.L + (h * N + i) * N;
          T* l = out.L + (h * N + i) * N;
          const T wi = w[i];
#pragma omp simd
          for (int64_t j = 0; j < N; ++j) l[j] = (T(1) - (wi + w[j])) * l0[j] + wi * p0[j];
          l[i] = 0;
          for (int64_t r = 0; r < R; ++r) {  // f[i] = Σ_j L[i,j]·wʳ₀[j];  b[j] += L[i,j]·wʳ₀[i]
            const T* wr0 = in.wr + r * N;
            T* br = bwd + (r * H + h) * N;
            const T wri = wr0[i];
            T acc = 0;
#pragma omp simd reduction(+ : acc)
            for (int64_t j = 0; j < N; ++j) {
              acc += l[j] * wr0[j];
              br[j] += wri * l[j];
            }
            fw[(r * H + h) * N + i] = acc;
          }
        }
      }
      T total = 0;
      for (int64_t n = 0; n < N; ++n) total += w[n];
      for (int64_t n = 0; n < N; ++n) out.p[h * N + n] = (T(1) - total) * p0[n] + w[n];
    }
    // read content on the new memory
    content_forward(out.M, sv + sl.nm, act + il.kr, act + il.br, R, sv + sl.nkr, sv + sl.Dr, sv + sl.cr);
    // read weights, then read words (from the value memory when separate)
    const T* cr = sv + sl.cr;
    const T* source = d.separate ? out.V : out.M;
    const int64_t P = 1 + 2 * H;
    for (int64_t r = 0; r < R; ++r) {
      T* wr = out.wr + r * N;
      const T* mode = pi + r * P;
      if (!d.links) std::copy(cr + r * N, cr + (r + 1) * N, wr);
      for (int64_t n = 0; n < N && d.links; ++n) {
        T fsum = 0, bsum = 0;
        for (int64_t h = 0; h < H; ++h) {
          fsum += mode[H + h] * fw[(r * H + h) * N + n];
          bsum += mode[h] * bwd[(r * H + h) * N + n];
        }
        wr[n] = mode[2 * H] * cr[r * N + n] + fsum + bsum;
      }
      weighted_rows(wr, source, N, W, words + r * W);
    }
  }

  // ---- the link sweeps, all R read heads in one pass over each row --------------------------
  // Row i of head h: L[i,j] = (1 − (w_i + w_j))·L₀[i,j] + w_i·p₀[j] (zero diagonal), with the
  // directional weights f_r[i] = Σ_j L[i,j]·wʳ₀[j] and b_r[j] += L[i,j]·wʳ₀[i] in the same pass:
  // one load of L₀ and one store of L per entry, the R accumulators in registers (KR = R known
  // at compile time). Same arithmetic per term as the R-pass loops they replace. Returns false
  // for an R without a compiled variant (the caller then runs the plain loops).
  template <int KR>
  void link_forward_rows(int64_t h, const T* w, const T* p0, const State& in, const State& out, T* fw, T* bwd) const {
    static_assert(KR >= 1 && KR <= 4);
    // head r's pointers; heads beyond KR alias head 0 and are never touched (if constexpr)
    const T *a0 = in.wr, *a1 = in.wr + (KR > 1) * N, *a2 = in.wr + (KR > 2) * 2 * N, *a3 = in.wr + (KR > 3) * 3 * N;
    T *b0 = bwd + h * N, *b1 = bwd + ((KR > 1) * H + h) * N, *b2 = bwd + ((KR > 2) * 2 * H + h) * N,
      *b3 = bwd + ((KR > 3) * 3 * H + h) * N;
    for (int64_t i = 0; i < N; ++i) {
      const T* l0 = in.L + (h * N + i) * N;
      T* l = out.L + (h * N + i) * N;
      const T wi = w[i], c0 = a0[i], c1 = a1[i], c2 = a2[i], c3 = a3[i];
      T s0 = 0, s1 = 0, s2 = 0, s3 = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3)
      for (int64_t j = 0; j < N; ++j) {
        T x = (T(1) - (wi + w[j])) * l0[j] + wi * p0[j];
        x = j == i ? T(0) : x;
        l[j] = x;
        s0 += x * a0[j];
        b0[j] += c0 * x;
        if constexpr (KR > 1) s1 += x * a1[j], b1[j] += c1 * x;
        if constexpr (KR > 2) s2 += x * a2[j], b2[j] += c2 * x;
        if constexpr (KR > 3) s3 += x * a3[j], b3[j] += c3 * x;
      }
      fw[h * N + i] = s0;
      if constexpr (KR > 1) fw[(H + h) * N + i] = s1;
      if constexpr (KR > 2) fw[(2 * H + h) * N + i] = s2;
      if constexpr (KR > 3) fw[(3 * H + h) * N + i] = s3;
    }
  }
  bool link_forward_fused(int64_t h, const T* w, const T* p0, const State& in, const State& out, T* fw, T* bwd) const {
    switch (R) {
      case 1: link_forward_rows<1>(h, w, p0, in, out, fw, bwd); return true;
      case 2: link_forward_rows<2>(h, w, p0, in, out, fw, bwd); return true;
      case 3: link_forward_rows<3>(h, w, p0, in, out, fw, bwd); return true;
      case 4: link_forward_rows<4>(h, w, p0, in, out, fw, bwd); return true;
      default: return false;
    }
  }
  // The backward of one head's sweep, row by row, one pass per row: the new link entry is
  // recomputed from the old one, g = dL[i,j] + Σ_r (df_r[i]·wʳ₀[j] + wʳ₀[i]·db_r[j]) (zero on
  // the diagonal), then dwʳ₀, dL₀, dw and dp₀ from it.
  template <int KR>
  void link_backward_rows(int64_t h, const T* w, const T* p0, const State& in, const State& gout, const State& gin,
                          const T* dfw, const T* dbw, T* dw, T* dp0) const {
    static_assert(KR >= 1 && KR <= 4);
    const int64_t o1 = (KR > 1) * N, o2 = (KR > 2) * 2 * N, o3 = (KR > 3) * 3 * N;  // head offsets in [R, N]
    const int64_t q1 = (KR > 1) * H * N, q2 = (KR > 2) * 2 * H * N, q3 = (KR > 3) * 3 * H * N;  // in [R, H, N]
    const T *a0 = in.wr, *a1 = in.wr + o1, *a2 = in.wr + o2, *a3 = in.wr + o3;
    const T *e0 = dbw + h * N, *e1 = e0 + q1, *e2 = e0 + q2, *e3 = e0 + q3;
    T *d0 = gin.wr, *d1 = gin.wr + o1, *d2 = gin.wr + o2, *d3 = gin.wr + o3;
    const T* df = dfw + h * N;
    for (int64_t i = 0; i < N; ++i) {
      const T* l0 = in.L + (h * N + i) * N;
      const T* go = gout.L + (h * N + i) * N;
      T* dl0 = gin.L + (h * N + i) * N;
      const T wi = w[i];
      const T f0 = df[i], f1 = df[q1 + i], f2 = df[q2 + i], f3 = df[q3 + i];
      const T c0 = a0[i], c1 = a1[i], c2 = a2[i], c3 = a3[i];
      T s0 = 0, s1 = 0, s2 = 0, s3 = 0, dwi = 0;
#pragma omp simd reduction(+ : s0, s1, s2, s3, dwi)
      for (int64_t j = 0; j < N; ++j) {
        const T keep = T(1) - (wi + w[j]);
        T x = keep * l0[j] + wi * p0[j];
        x = j == i ? T(0) : x;
        T g = go[j];
        g += f0 * a0[j] + c0 * e0[j];
        d0[j] += f0 * x;
        s0 += e0[j] * x;
        if constexpr (KR > 1) g += f1 * a1[j] + c1 * e1[j], d1[j] += f1 * x, s1 += e1[j] * x;
        if constexpr (KR > 2) g += f2 * a2[j] + c2 * e2[j], d2[j] += f2 * x, s2 += e2[j] * x;
        if constexpr (KR > 3) g += f3 * a3[j] + c3 * e3[j], d3[j] += f3 * x, s3 += e3[j] * x;
        g = j == i ? T(0) : g;  // the diagonal is set to 0 after the update
        dl0[j] = g * keep;
        dwi += g * (p0[j] - l0[j]);
        dw[j] -= g * l0[j];
        dp0[j] += g * wi;
      }
      d0[i] += s0;
      if constexpr (KR > 1) d1[i] += s1;
      if constexpr (KR > 2) d2[i] += s2;
      if constexpr (KR > 3) d3[i] += s3;
      dw[i] += dwi;
    }
  }
  bool link_backward_fused(int64_t h, const T* w, const T* p0, const State& in, const State& gout, const State& gin,
                           const T* dfw, const T* dbw, T* dw, T* dp0) const {
    switch (R) {
      case 1: link_backward_rows<1>(h, w, p0, in, gout, gin, dfw, dbw, dw, dp0); return true;
      case 2: link_backward_rows<2>(h, w, p0, in, gout, gin, dfw, dbw, dw, dp0); return true;
      case 3: link_backward_rows<3>(h, w, p0, in, gout, gin, dfw, dbw, dw, dp0); return true;
      case 4: link_backward_rows<4>(h, w, p0, in, gout, gin, dfw, dbw, dw, dp0); return true;
      default: return false;
    }
  }

  // ---- backward (the forward's phases in reverse) -------------------------------------------
  // Scratch per thread: dM and dV [N, W], dww [H, N], dwr [R, N], dcw [H, N], dcr [R, N], dfw and dbw
  // [R, H, N], da [H, N], g, vec and lrow [N], the sorted-order buffers (4N), row and row2 [W].
  struct Scratch {
    std::vector<T> dM, dV, dww, dwr, dcw, dcr, dfw, dbw, da, g, vec, lrow, sn, sp, sda, G, row, row2;
    explicit Scratch(const Kernel& k)
        : dM(k.N * k.W), dV(k.d.separate ? k.N * k.W : 0), dww(k.H * k.N), dwr(k.R * k.N), dcw(k.H * k.N), dcr(k.R * k.N), dfw(k.R * k.H * k.N),
          dbw(k.R * k.H * k.N), da(k.H * k.N), g(k.N), vec(k.N), lrow(k.N), sn(k.N), sp(k.N), sda(k.N), G(k.N), row(k.W), row2(k.W) {}
  };

  void backward(const T* raw, const State& in, const State& out, const T* sv, const int32_t* order, const T* dwords,
                const State& gout, T* diface, const State& gin, Scratch& s) const {
    const T* act = sv + sl.act;
    const T *v = act + il.v, *e = act + il.e, *f = act + il.f, *ga = act + il.ga, *gw = act + il.gw;
    const T* pi = act + il.pi;
    const T *fw = sv + sl.fw, *bwd = sv + sl.bw, *cw = sv + sl.cw, *cr = sv + sl.cr, *alloc = sv + sl.alloc;
    const int64_t P = 1 + 2 * H;
    T* dact = diface;  // gradients of the activated interface first; raw at the end
    std::fill(dact, dact + il.I, T(0));
    std::copy(gout.M, gout.M + N * W, s.dM.begin());
    if (d.separate) std::copy(gout.V, gout.V + N * W, s.dV.begin());
    std::copy(gout.wr, gout.wr + R * N, s.dwr.begin());
    std::copy(gout.ww, gout.ww + H * N, s.dww.begin());
    std::fill(gin.wr, gin.wr + R * N, T(0));
    T *dM = s.dM.data(), *dV = s.dV.data(), *dwr = s.dwr.data(), *dww = s.dww.data();

    // read words: r = wʳ·M (the value memory when separate)
    const T* source = d.separate ? out.V : out.M;
    T* dsource = d.separate ? dV : dM;
    for (int64_t n = 0; n < N; ++n) {
      const T* m = source + n * W;
      T* dm = dsource + n * W;
      for (int64_t r = 0; r < R; ++r) {
        const T* dr = dwords + r * W;
        const T wrn = out.wr[r * N + n];
        T acc = 0;
#pragma omp simd reduction(+ : acc)
        for (int64_t w = 0; w < W; ++w) {
          acc += dr[w] * m[w];
          dm[w] += wrn * dr[w];
        }
        dwr[r * N + n] += acc;
      }
    }
    // read weights: wʳ = π_c·cʳ + Σ_h π_f,h·f_h + Σ_h π_b,h·b_h
    if (!d.links) std::copy(dwr, dwr + R * N, s.dcr.begin());
    for (int64_t r = 0; r < R && d.links; ++r) {
      const T* dw = dwr + r * N;
      const T* mode = pi + r * P;
      T* dmode = dact + il.pi + r * P;
      dmode[2 * H] += dot(dw, cr + r * N, N);
      for (int64_t n = 0; n < N; ++n) s.dcr[r * N + n] = dw[n] * mode[2 * H];
      for (int64_t h = 0; h < H; ++h) {
        const int64_t o = (r * H + h) * N;
        dmode[H + h] += dot(dw, fw + o, N);
        dmode[h] += dot(dw, bwd + o, N);
        for (int64_t n = 0; n < N; ++n) {
          s.dfw[o + n] = dw[n] * mode[H + h];
          s.dbw[o + n] = dw[n] * mode[h];
        }
      }
    }
    // read content on the new memory
    content_backward(out.M, sv + sl.nm, act + il.kr, act + il.br, sv + sl.nkr, sv + sl.Dr, cr, s.dcr.data(), R, dM,
                     dact + il.kr, dact + il.br, s.vec.data());
    // precedence: p = (1 − Σw)·p₀ + w
    for (int64_t h = 0; h < H && d.links; ++h) {
      const T* w = out.ww + h * N;
      const T* p0 = in.p + h * N;
      const T* dp = gout.p + h * N;
      T total = 0;
      for (int64_t n = 0; n < N; ++n) total += w[n];
      T dtotal = -dot(dp, p0, N);
      for (int64_t n = 0; n < N; ++n) {
        gin.p[h * N + n] = dp[n] * (T(1) - total);
        dww[h * N + n] += dp[n] + dtotal;
      }
    }
    // directional weights and link, row by row: g = dL (output gradient + directions). The
    // row of the new link is recomputed from the old one (3 flops per entry) rather than read:
    // in training both were written long before the backward, and this sweep is bound by
    // memory traffic (B·H·N² floats per array).
    for (int64_t h = 0; h < H && d.links; ++h) {
      const T* w = out.ww + h * N;
      const T* p0 = in.p + h * N;
      T* dw = dww + h * N;
      T* dp0 = gin.p + h * N;
      T* g = s.g.data();
      T* l = s.lrow.data();
      if (!link_backward_fused(h, w, p0, in, gout, gin, s.dfw.data(), s.dbw.data(), dw, dp0)) {
        for (int64_t i = 0; i < N; ++i) {
          const T* l0 = in.L + (h * N + i) * N;
          const T wi = w[i];
  #pragma omp simd
          for (int64_t j = 0; j < N; ++j) l[j] = (T(1) - (wi + w[j])) * l0[j] + wi * p0[j];
          l[i] = 0;
          std::copy(gout.L + (h * N + i) * N, gout.L + (h * N + i + 1) * N, g);
          for (int64_t r = 0; r < R; ++r) {  // f[i] = Σ_j L[i,j]·wʳ₀[j];  b[j] = Σ_i L[i,j]·wʳ₀[i]
            const T* wr0 = in.wr + r * N;
            const T dfi = s.dfw[(r * H + h) * N + i], wri = wr0[i];
            const T* dbr = s.dbw.data() + (r * H + h) * N;
            T* dwr0 = gin.wr + r * N;
            T acc = 0;
  #pragma omp simd reduction(+ : acc)
            for (int64_t j = 0; j < N; ++j) {
              g[j] += dfi * wr0[j] + wri * dbr[j];
              dwr0[j] += dfi * l[j];
              acc += dbr[j] * l[j];
            }
            dwr0[i] += acc;
          }
          g[i] = 0;  // the diagonal is set to 0 after the update
          T* dl0 = gin.L + (h * N + i) * N;
          T dwi = 0;
  #pragma omp simd reduction(+ : dwi)
          for (int64_t j = 0; j < N; ++j) {
            dl0[j] = g[j] * (T(1) - (wi + w[j]));
            dwi += g[j] * (p0[j] - l0[j]);
            dw[j] -= g[j] * l0[j];
            dp0[j] += g[j] * wi;
          }
          dw[i] += dwi;
        }
      }
    }
    // erase and add, on the key memory (adding the write keys when separate, else the write
    // vectors) and on the value memory
    erase_add_backward(in.M, out.ww, e, d.separate ? act + il.kw : v, dM, N, W, H, gin.M, dact + il.e,
                       dact + (d.separate ? il.kw : il.v), dww, s.row.data(), s.row2.data());
    if (d.separate)
      erase_add_backward(in.V, out.ww, e, v, dV, N, W, H, gin.V, dact + il.e, dact + il.v, dww, s.row.data(),
                         s.row2.data());
    // write weights: wʷ = gʷ·(gᵃ·a + (1 − gᵃ)·cʷ)
    for (int64_t h = 0; h < H; ++h) {
      T dga = 0, dgw = 0;
      for (int64_t n = 0; n < N; ++n) {
        const T dw = dww[h * N + n], a = alloc[h * N + n], c = cw[h * N + n];
        dgw += dw * (ga[h] * a + (T(1) - ga[h]) * c);
        dga += dw * gw[h] * (a - c);
        s.da[h * N + n] = dw * gw[h] * ga[h];
        s.dcw[h * N + n] = dw * gw[h] * (T(1) - ga[h]);
      }
      dact[il.ga + h] += dga;
      dact[il.gw + h] += dgw;
    }
    // allocation, heads in reverse: a_h = A(ū_h), ū_{h+1} = ū_h + (1 − ū_h)·g_h·a_h
    T* du = s.g.data();  // d ū_{h+1}, then d ū_h
    std::fill(du, du + N, T(0));
    const T* ubar = sv + sl.ubar;
    for (int64_t h = H - 1; h >= 0; --h) {
      const T* uh = ubar + h * N;
      const T* ah = alloc + h * N;
      T* dah = s.da.data() + h * N;
      if (h + 1 < H) {
        const T gh = ga[h] * gw[h];
        T dg = 0;
        for (int64_t n = 0; n < N; ++n) {
          dg += du[n] * (T(1) - uh[n]) * ah[n];
          dah[n] += du[n] * (T(1) - uh[n]) * gh;
          du[n] = du[n] * (T(1) - gh * ah[n]);
        }
        dact[il.ga + h] += dg * gw[h];
        dact[il.gw + h] += dg * ga[h];
      }
      // A: sorted nonusage n_j, s_j = 1 − n_j, P_j = Π_{k<j} s_k, a_sorted[j] = n_j·P_j
      const int32_t* ord = order + h * N;
      T *sn = s.sn.data(), *sp = s.sp.data(), *sda = s.sda.data(), *G = s.G.data();
      T prod = 1;
      for (int64_t j = 0; j < N; ++j) {
        sn[j] = T(1) - (uh[ord[j]] * T(1 - kEps) + T(kEps));
        sp[j] = prod;
        prod *= T(1) - sn[j];
        sda[j] = dah[ord[j]];
      }
      // dP_j = da_j·n_j; ds_k = P_k·G_k with G_k = dP_{k+1} + s_{k+1}·G_{k+1} (prefix/suffix)
      G[N - 1] = 0;
      for (int64_t k = N - 2; k >= 0; --k) G[k] = sda[k + 1] * sn[k + 1] + (T(1) - sn[k + 1]) * G[k + 1];
      for (int64_t j = 0; j < N; ++j) {
        T dn = sda[j] * sp[j] - sp[j] * G[j];  // direct, and through s_j = 1 − n_j
        du[ord[j]] += -dn * T(1 - kEps);
      }
    }
    // write content on the old memory
    content_backward(in.M, sv + sl.nmw, act + il.kw, act + il.bw, sv + sl.nkw, sv + sl.Dw, cw, s.dcw.data(), H,
                     gin.M, dact + il.kw, dact + il.bw, s.vec.data());
    // usage: u = u′·ψ, u′ = u₀ + (1 − u₀)·ŵ (ŵ stop-gradient), ψ = Π_r q_r, q_r = 1 − f_r·wʳ₀
    for (int64_t n = 0; n < N; ++n) {
      const T dun = gout.u[n] + du[n];
      T keep = 1, psi = 1;
      for (int64_t h = 0; h < H; ++h) keep *= T(1) - in.ww[h * N + n];
      for (int64_t r = 0; r < R; ++r) psi *= T(1) - f[r] * in.wr[r * N + n];
      const T written = T(1) - keep, u0 = in.u[n];
      const T uprime = u0 + (T(1) - u0) * written;
      gin.u[n] = dun * psi * (T(1) - written);
      const T dpsi = dun * uprime;
      for (int64_t r = 0; r < R; ++r) {
        T others = 1;  // Π over the other read heads: no division
        for (int64_t k = 0; k < R; ++k)
          if (k != r) others *= T(1) - f[k] * in.wr[k * N + n];
        const T dq = dpsi * others;
        dact[il.f + r] -= dq * in.wr[r * N + n];
        gin.wr[r * N + n] -= dq * f[r];
      }
    }
    // interface nonlinearities: dact → d raw (in place)
    for (int64_t i = il.e; i < il.e + H * W; ++i) dact[i] *= act[i] * (T(1) - act[i]);
    for (int64_t i = il.f; i < il.pi; ++i) dact[i] *= act[i] * (T(1) - act[i]);
    for (int64_t r = 0; r < R && d.links; ++r) {
      const T* y = act + il.pi + r * P;
      T* dy = dact + il.pi + r * P;
      T sdot = dot(y, dy, P);
      for (int64_t k = 0; k < P; ++k) dy[k] = y[k] * (dy[k] - sdot);
    }
    if (!d.cosine) return;
    for (int64_t h = 0; h < H; ++h) dact[il.bw + h] *= sigmoid(raw[il.bw + h]);
    for (int64_t r = 0; r < R; ++r) dact[il.br + r] *= sigmoid(raw[il.br + r]);
  }
};

// Batch elements per chunk: serial for small memories, where threads cost more than they save.
int64_t batch_grain(const DncDims& d) {
  const int64_t work = (d.links ? d.H * d.N * d.N * (1 + d.R) : 0) + (d.R + d.H) * d.N * d.W;
  return std::max<int64_t>(1, 40000 / std::max<int64_t>(work, 1));
}

}  // namespace

int64_t dnc_interface_width(const DncDims& d) { return InterfaceLayout(d).I; }
int64_t dnc_saved_width(const DncDims& d) { return SavedLayout(d).S; }

float dnc_allocation_sort_key(double u) {
  const float one_minus_eps = static_cast<float>(1.0 - kEps), eps = static_cast<float>(kEps);
  volatile float t = static_cast<float>(u) * one_minus_eps;  // volatile: no fused multiply-add
  volatile float clamped = t + eps;
  return 1.0f - clamped;
}

void dnc_step_forward(const DncDims& d, const Tensor& iface, const DncStateTensors& prev, Tensor& words,
                      DncStateTensors& next, Tensor* saved, std::vector<int32_t>* order) {
  const int64_t B = iface.size(0), I = dnc_interface_width(d), S = dnc_saved_width(d);
  const bool keep = saved && saved->defined();
  if (order) order->assign(B * d.H * d.N, 0);
  dispatch_floating(iface.dtype(), "dnc_access_step", [&](auto tag) {
    using T = decltype(tag);
    Kernel<T> k(d);
    const T* raw = iface.data<T>();
    T* pw = words.data<T>();
    T* psv = keep ? saved->data<T>() : nullptr;
    parallel_for(B, batch_grain(d), [&](int64_t b0, int64_t b1) {
      std::vector<T> scratch_sv(keep ? 0 : S);
      std::vector<int32_t> scratch_order(order ? 0 : d.H * d.N), idx(d.N);
      std::vector<uint64_t> key(d.N);
      for (int64_t b = b0; b < b1; ++b) {
        T* sv = keep ? psv + b * S : scratch_sv.data();
        int32_t* ord = order ? order->data() + b * d.H * d.N : scratch_order.data();
        k.forward(raw + b * I, k.state_at(prev, b), k.state_at(next, b), pw + b * d.R * d.W, sv, ord, idx, key);
      }
    });
  });
}

void dnc_step_backward(const DncDims& d, const Tensor& iface, const DncStateTensors& prev, const DncStateTensors& next,
                       const Tensor& saved, const std::vector<int32_t>& order, const Tensor& dwords,
                       const DncStateTensors& dnext, Tensor& diface, DncStateTensors& dprev) {
  const int64_t B = iface.size(0), I = dnc_interface_width(d), S = dnc_saved_width(d);
  const DType dt = iface.dtype();
  diface = Tensor::empty({B, I}, dt);
  for (int part : {kDncMemory, kDncReadWeights, kDncLink, kDncPrecedence, kDncUsage, kDncValues})
    dprev[part] = prev[part].defined() ? Tensor::empty(prev[part].shape(), dt) : Tensor();
  dprev[kDncWriteWeights] = Tensor();
  // The kernel reads a write-weights gradient slot; it stays untouched (stop-gradient).
  DncStateTensors gin = dprev;
  gin[kDncWriteWeights] = Tensor::empty(prev[kDncWriteWeights].shape(), dt);
  dispatch_floating(dt, "dnc_access_step", [&](auto tag) {
    using T = decltype(tag);
    Kernel<T> k(d);
    const T* raw = iface.data<T>();
    const T* psv = saved.data<T>();
    const T* pdw = dwords.data<T>();
    T* pdi = diface.data<T>();
    parallel_for(B, batch_grain(d), [&](int64_t b0, int64_t b1) {
      typename Kernel<T>::Scratch s(k);
      for (int64_t b = b0; b < b1; ++b)
        k.backward(raw + b * I, k.state_at(prev, b), k.state_at(next, b), psv + b * S, order.data() + b * d.H * d.N,
                   pdw + b * d.R * d.W, k.state_at(dnext, b), pdi + b * I, k.state_at(gin, b), s);
    });
  });
}

}  // namespace sdnc::cpu
