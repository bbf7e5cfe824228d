// The built-in neurons' float scan (forward and BPTT backward) as one native loop over all steps.
//
// Compiled and loaded by native_scan.py (plain C ABI, called through ctypes on tensor data
// pointers). Every element follows, operation for operation, the torch operations of the Python
// scan in neurons.py (_forward_float, backward_scan): torch's ``add(x, y, alpha=c)`` and
// ``addcmul(s, t1, t2, value=v)`` are fused multiply-adds (``fma(y, c, x)``, ``fma(v*t1, t2,
// s)``), everything else is rounded per operation, and scalars are rounded to the tensor's type
// first. Build with -ffp-contract=off so that the compiler adds no contraction of its own; the
// results are then the Python scan's, bit for bit. The surrogates that need exp (exponential,
// sigmoid) are computed by torch beforehand and passed in place of U (``GIVEN``): the C library's
// exp may differ from torch's vectorised one in the last bit.
//
// Layout: [T, n] contiguous (n = B * units), except X, whose time stride is given (0: one frame
// repeated over time). Elements are independent: the work is split into blocks of elements, each
// block runs all T steps with its state in small local arrays (OpenMP over blocks).
//
// ALIF: the forward pass does not write its thresholds (one more [T, n] stream written and read
// back); it writes the adaptation A of every K-th step (checkpoints AC, [ceil(T/K), n]), and the
// backward pass recomputes the thresholds of each segment of K steps from its checkpoint and the
// stored spikes, with the forward pass's operations (so they are the same floats), in a first
// pass forward in time over the segment that also computes the surrogate (h) of its steps.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>
#if defined(__AVX512F__) || defined(__AVX__)
#include <immintrin.h>
#endif

namespace {

constexpr int64_t BLOCK = 4096;   // elements per block (faster than 512 or 2048 on the bench shapes)

// Block length: BLOCK, or less so that every thread gets a block.
inline int64_t block_len(int64_t n, int nthreads) {
  const int64_t per = (n + nthreads - 1) / std::max(nthreads, 1);
  return std::max<int64_t>(16, std::min(BLOCK, (per + 15) / 16 * 16));
}

// The backward pass's gradient gX, when at least NT_MIN bytes in all (far larger than the caches,
// read again only by the weight-gradient matmul), is written with non-temporal stores: no read of
// each line before it is written. Each step's row is computed into a local row first, then copied
// out. (The same for the forward pass's U and S was slower: they are re-read at the next step.)
constexpr int64_t NT_MIN = int64_t(8) << 20;

// dst[0:len] = src[0:len]; non-temporal stores for the aligned middle if nt.
template <typename F>
inline void store_row(F* __restrict dst, const F* __restrict src, int64_t len, bool nt) {
  int64_t j = 0;
#if defined(__AVX512F__) || defined(__AVX__)
  if (nt) {
#if defined(__AVX512F__)
    constexpr int64_t VB = 64;
#else
    constexpr int64_t VB = 32;
#endif
    constexpr int64_t W = VB / int64_t(sizeof(F));
    for (; j < len && (reinterpret_cast<uintptr_t>(dst + j) & (VB - 1)); ++j) dst[j] = src[j];
    for (; j + W <= len; j += W) {
#if defined(__AVX512F__)
      if constexpr (sizeof(F) == 4)
        _mm512_stream_ps(reinterpret_cast<float*>(dst + j),
                         _mm512_loadu_ps(reinterpret_cast<const float*>(src + j)));
      else
        _mm512_stream_pd(reinterpret_cast<double*>(dst + j),
                         _mm512_loadu_pd(reinterpret_cast<const double*>(src + j)));
#else
      if constexpr (sizeof(F) == 4)
        _mm256_stream_ps(reinterpret_cast<float*>(dst + j),
                         _mm256_loadu_ps(reinterpret_cast<const float*>(src + j)));
      else
        _mm256_stream_pd(reinterpret_cast<double*>(dst + j),
                         _mm256_loadu_pd(reinterpret_cast<const double*>(src + j)));
#endif
    }
  }
#endif
  for (; j < len; ++j) dst[j] = src[j];       // (not memcpy: rep movsb, slow here)
}

inline void store_fence(bool nt) {
#if defined(__AVX512F__) || defined(__AVX__)
  if (nt) _mm_sfence();
#endif
}

enum Kind { IF = 0, LIF = 1, CUBA = 2, ALIF = 3 };
enum Reset { SUBTRACT = 0, ZERO = 1, NONE = 2 };
enum Surr { FAST_SIGMOID = 0, TRIANGLE = 1, EXPONENTIAL = 2, ATAN = 3, SIGMOID = 4, RECTANGULAR = 5,
            GIVEN = 6 };

inline bool cut(int64_t t, int64_t tbptt) { return t == 0 || (tbptt > 0 && t % tbptt == 0); }

// One block of elements, all T steps; U[t-1] and S[t-1] are read back from the outputs (just
// written, still in cache), the ALIF threshold of the previous step is kept locally (reading it
// back from TH made the loop twice as slow). (Keeping U and S in local arrays too and copying
// each step out, with or without non-temporal stores, was slower.) Every kind/reset/refractory combination is its own
// instantiation, so that the inner loop has no branches and vectorises.
template <typename F, int KIND, int RESET, bool REFR>
void forward_block(const F* __restrict X, int64_t xs, F* __restrict U, F* __restrict S,
                   F* __restrict AC, int64_t K, F* __restrict M, F* __restrict C, int64_t T,
                   int64_t n, int64_t j0, int64_t len, F b, F a, F r, F beta, F theta, F refr_f) {
  constexpr bool cuba = KIND == CUBA, alif = KIND == ALIF;
  F i_[BLOCK], a_[BLOCK], r_[BLOCK], thp_[BLOCK];   // I, A, refractory count, theta_prev
  F c_[BLOCK];                                      // spikes so far (exact: T < 2^24)
  for (int64_t j = 0; j < len; ++j) i_[j] = a_[j] = r_[j] = thp_[j] = c_[j] = F(0);
  for (int64_t t = 0; t < T; ++t) {
    const F* __restrict x_t = X + t * xs + j0;
    F* __restrict u_t = U + t * n + j0;
    F* __restrict s_t = S + t * n + j0;
    const F* __restrict u_p = t > 0 ? u_t - n : u_t;      // read for t > 0 only
    const F* __restrict s_p = t > 0 ? s_t - n : s_t;
    F* __restrict m_t = REFR ? M + t * n + j0 : nullptr;
    const bool first = t == 0;
    F thn_[alif ? BLOCK : 1];
    if constexpr (alif) {            // the thresholds first (in the main loop: twice as slow)
      for (int64_t j = 0; j < len; ++j) {
        const F sp = first ? F(0) : s_p[j];
        const F A = first ? sp : std::fma(a_[j], r, sp);  // A = r*A + S_prev
        a_[j] = A;
        F th = A * beta;
        th = th + theta;                                   // theta + beta*A
        thn_[j] = th;
      }
      if (t % K == 0) {                                    // checkpoint: A of this step
        F* __restrict ac = AC + (t / K) * n + j0;
        for (int64_t j = 0; j < len; ++j) ac[j] = a_[j];
      }
    }
    for (int64_t j = 0; j < len; ++j) {
      F x = x_t[j];
      F m = F(1);
      if constexpr (REFR) {
        m = r_[j] <= F(0) ? F(1) : F(0);                  // not refractory
        m_t[j] = m;
      }
      if constexpr (cuba) {
        const F i = first ? x : std::fma(i_[j], a, x);     // I = a*I + in
        i_[j] = i;
        x = i;
      }
      if constexpr (REFR) x = x * m;
      const F sp = first ? F(0) : s_p[j];
      F th_now = theta;
      if constexpr (alif) th_now = thn_[j];
      F u;
      if (first) {
        u = x;
      } else if constexpr (RESET == ZERO) {
        u = std::fma(b * u_p[j], F(1) - sp, x);            // (1 - S_prev) * b*U + x
      } else {
        u = std::fma(u_p[j], b, x);                        // b*U + x
        if constexpr (RESET == SUBTRACT) {
          if constexpr (alif)
            u = std::fma(-thp_[j], sp, u);                 // - theta_prev * S_prev
          else
            u = std::fma(sp, -theta, u);                   // - theta * S_prev
        }
      }
      F s = u > th_now ? F(1) : F(0);
      if constexpr (REFR) {
        s = s * m;
        F rm = r_[j] - F(1);
        rm = rm < F(0) ? F(0) : rm;
        r_[j] = s > F(0) ? refr_f : rm;
      }
      u_t[j] = u;
      s_t[j] = s;
      c_[j] += s;
      if constexpr (alif) thp_[j] = th_now;
    }
  }
  if (C) {                                          // the spike count readout, fused
    F* __restrict c = C + j0;
    for (int64_t j = 0; j < len; ++j) c[j] = c_[j];
  }
}

template <typename F, int KIND, int RESET>
void forward_r(const F* X, int64_t xs, F* U, F* S, F* AC, int64_t K, F* M, F* C, int64_t T,
               int64_t n, int64_t j0, int64_t len, F b, F a, F r, F beta, F theta, F refr_f,
               bool refr) {
  if (refr)
    forward_block<F, KIND, RESET, true>(X, xs, U, S, AC, K, M, C, T, n, j0, len, b, a, r, beta,
                                        theta, refr_f);
  else
    forward_block<F, KIND, RESET, false>(X, xs, U, S, AC, K, M, C, T, n, j0, len, b, a, r, beta,
                                         theta, refr_f);
}

template <typename F, int KIND>
void forward_k(int reset, const F* X, int64_t xs, F* U, F* S, F* AC, int64_t K, F* M, F* C,
               int64_t T, int64_t n, int64_t j0, int64_t len, F b, F a, F r, F beta, F theta,
               F refr_f, bool refr) {
  if (reset == ZERO)
    forward_r<F, KIND, ZERO>(X, xs, U, S, AC, K, M, C, T, n, j0, len, b, a, r, beta, theta, refr_f,
                             refr);
  else if (reset == NONE)
    forward_r<F, KIND, NONE>(X, xs, U, S, AC, K, M, C, T, n, j0, len, b, a, r, beta, theta, refr_f,
                             refr);
  else
    forward_r<F, KIND, SUBTRACT>(X, xs, U, S, AC, K, M, C, T, n, j0, len, b, a, r, beta, theta,
                                 refr_f, refr);
}

template <typename F>
void forward(const F* X, int64_t x_tstride, F* U, F* S, F* AC, int64_t K, F* M, F* C, int64_t T,
             int64_t n, int kind, int reset, int64_t refractory, double b_, double a_, double r_,
             double beta_, double theta_, int nthreads) {
  const F b = (F)b_, a = (F)a_, r = (F)r_, beta = (F)beta_, theta = (F)theta_;
  const F refr_f = (F)refractory;
  const bool refr = refractory > 0;
  const int64_t step = block_len(n, nthreads), nblocks = (n + step - 1) / step;
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1 && nblocks > 1)
  for (int64_t blk = 0; blk < nblocks; ++blk) {
    const int64_t j0 = blk * step, len = std::min(step, n - j0);
    auto go = [&](auto fn) { fn(reset, X, x_tstride, U, S, AC, K, M, C, T, n, j0, len, b, a, r,
                                beta, theta, refr_f, refr); };
    switch (kind) {
      case IF: go(forward_k<F, IF>); break;
      case LIF: go(forward_k<F, LIF>); break;
      case CUBA: go(forward_k<F, CUBA>); break;
      default: go(forward_k<F, ALIF>); break;
    }
  }
}

// GIVEN: ``v`` is h itself (computed by torch beforehand).
template <typename F, int SURR>
inline F surrogate(F v, F c0, F c1) {
  if constexpr (SURR == GIVEN) {
    return v;
  } else if constexpr (SURR == FAST_SIGMOID) {   // |v| * slope + 1, squared, reciprocal (c0 = slope)
    v = std::fabs(v) * c0;
    v = v + F(1);
    v = v * v;
    return F(1) / v;
  } else if constexpr (SURR == TRIANGLE) {       // max(0, |v| * (-1/w) + 1) * (1/w)
    v = std::fabs(v) * c0;                       // (c0 = -1/w, c1 = 1/w)
    v = v + F(1);
    v = v < F(0) ? F(0) : v;
    return v * c1;
  } else if constexpr (SURR == EXPONENTIAL) {    // exp(|v| * -slope) * (slope/2)
    v = std::fabs(v) * c0;                       // (c0 = -slope, c1 = slope/2)
    v = std::exp(v);
    return v * c1;
  } else if constexpr (SURR == ATAN) {           // 1 / ((v * (pi/2 alpha))^2 + 1) * (alpha/2)
    v = v * c0;                                  // (c0 = pi/2 alpha, c1 = alpha/2)
    v = v * v;
    v = v + F(1);
    v = F(1) / v;
    return v * c1;
  } else if constexpr (SURR == SIGMOID) {        // s = sigmoid(v * slope); s * (1 - s) * slope
    v = v * c0;
    F s = F(1) / (F(1) + std::exp(-v));
    s = s * (F(1) - s);
    return s * c0;
  } else {                                       // RECTANGULAR: (|v| < w/2) * (1/w)
    return (std::fabs(v) < c0 ? F(1) : F(0)) * c1;   // (c0 = w/2, c1 = 1/w)
  }
}

// h[j] = surrogate(U[j] - theta) (or - TH[j]), times M[j]; a loop per surrogate.
template <typename F, int SURR>
void fill_h_s(F* __restrict h, const F* __restrict U, const F* __restrict TH,
              const F* __restrict M, F theta, int64_t len, F c0, F c1) {
  if (SURR == GIVEN)
    for (int64_t j = 0; j < len; ++j) h[j] = U[j];
  else if (TH)
    for (int64_t j = 0; j < len; ++j) h[j] = surrogate<F, SURR>(U[j] - TH[j], c0, c1);
  else
    for (int64_t j = 0; j < len; ++j) h[j] = surrogate<F, SURR>(U[j] - theta, c0, c1);
  if (M)
    for (int64_t j = 0; j < len; ++j) h[j] = h[j] * M[j];
}

template <typename F>
void fill_h(int surr, F* h, const F* U, const F* TH, const F* M, F theta, int64_t len, F c0,
            F c1) {
  switch (surr) {
    case FAST_SIGMOID: fill_h_s<F, FAST_SIGMOID>(h, U, TH, M, theta, len, c0, c1); break;
    case TRIANGLE: fill_h_s<F, TRIANGLE>(h, U, TH, M, theta, len, c0, c1); break;
    case EXPONENTIAL: fill_h_s<F, EXPONENTIAL>(h, U, TH, M, theta, len, c0, c1); break;
    case ATAN: fill_h_s<F, ATAN>(h, U, TH, M, theta, len, c0, c1); break;
    case SIGMOID: fill_h_s<F, SIGMOID>(h, U, TH, M, theta, len, c0, c1); break;
    case RECTANGULAR: fill_h_s<F, RECTANGULAR>(h, U, TH, M, theta, len, c0, c1); break;
    default: fill_h_s<F, GIVEN>(h, U, TH, M, theta, len, c0, c1); break;
  }
}

struct BwdArgs {
  int64_t T, n, tbptt;
  int surr;
  int64_t gs_ts, gu_ts;   // time strides of gS, gU (0: one frame repeated over time)
  const void* ac;         // ALIF without TH: the checkpoints of A, every K-th step
  int64_t K;
  bool nt;                // non-temporal stores for gX
};

// neurons.py's path for kinds without a state fed by the spikes (IF, LIF, CubaLIF): P = h*gS (+ gU),
// P[t] += c[t] P[t+1] with c = b (or b*(1 - S[t]), zero reset), G = P*M, G[t] += a G[t+1] (CubaLIF).
template <typename F, bool CUBA_, bool ZERO_, bool HAS_M, bool HAS_GS, bool HAS_GU>
void backward_linear(const F* U, const F* S, const F* M, const F* gS_all, const F* gU_all, F* gX,
                     const BwdArgs& g, int64_t j0, int64_t len, F b, F a, F theta, F c0, F c1) {
  F h[BLOCK], carry[BLOCK], gxl[BLOCK];   // carry: P[t+1]; gxl: G[t] (before: G[t+1])
  const int64_t n = g.n;
  for (int64_t t = g.T - 1; t >= 0; --t) {
    const int64_t o = t * n + j0;
    const bool link = t + 1 < g.T && !cut(t + 1, g.tbptt);
    if (HAS_GS) fill_h<F>(g.surr, h, U + o, nullptr, HAS_M ? M + o : nullptr, theta, len, c0, c1);
    const F* __restrict gs = HAS_GS ? gS_all + t * g.gs_ts + j0 : nullptr;
    const F* __restrict gu = HAS_GU ? gU_all + t * g.gu_ts + j0 : nullptr;
    const F* __restrict s = S + o;
    const F* __restrict m = HAS_M ? M + o : nullptr;
    F* __restrict gx = gxl;
    const F C_on = F(1) * b;
    for (int64_t j = 0; j < len; ++j) {
      F p;
      if constexpr (HAS_GS) {
        p = h[j] * gs[j];
        if constexpr (HAS_GU) p = p + gu[j];
      } else {
        p = gu[j];
      }
      if (link) {
        if constexpr (ZERO_)
          p = std::fma(s[j] == F(0) ? C_on : F(0), carry[j], p);
        else
          p = std::fma(carry[j], b, p);
      }
      carry[j] = p;
      F gv = p;
      if constexpr (HAS_M) gv = gv * m[j];
      if constexpr (CUBA_) {
        if (link) gv = std::fma(gx[j], a, gv);     // G[t+1]
      }
      gx[j] = gv;
    }
    store_row(gX + o, gxl, len, g.nt);
  }
  store_fence(g.nt);
}

// The ALIF thresholds of steps t0..t1-1 of one block into th[(t - t0) * len + j], recomputed from
// the checkpoint A[t0] (AC row t0 / K) and the spikes S[t0..t1-2] with the forward pass's
// operations: A = r*A + S_prev, theta + beta*A.
template <typename F>
void alif_thresholds(const F* __restrict S, const F* __restrict AC, F* __restrict th, int64_t K,
                     int64_t t0, int64_t t1, int64_t n, int64_t j0, int64_t len, F r, F beta,
                     F theta) {
  F a_[BLOCK];
  const F* __restrict ac = AC + (t0 / K) * n + j0;
  for (int64_t j = 0; j < len; ++j) {
    const F A = ac[j];
    a_[j] = A;
    F v = A * beta;
    th[j] = v + theta;
  }
  for (int64_t t = t0 + 1; t < t1; ++t) {
    const F* __restrict sp = S + (t - 1) * n + j0;
    F* __restrict th_t = th + (t - t0) * len;
    for (int64_t j = 0; j < len; ++j) {
      const F A = std::fma(a_[j], r, sp[j]);
      a_[j] = A;
      F v = A * beta;
      th_t[j] = v + theta;
    }
  }
}

// Scratch for one segment's thresholds, per thread, kept between calls (no fresh pages).
template <typename F>
F* scratch(int64_t count) {
  static thread_local std::vector<F> buf;
  if ((int64_t)buf.size() < count) buf.resize(count);
  return buf.data();
}

// One step of the ALIF recursion over one block (all pointers restrict: the loop vectorises).
template <typename F, int RESET, bool HAS_M, bool HAS_GS, bool HAS_GU>
inline void alif_step(const F* __restrict h, const F* __restrict gs_t, const F* __restrict gu_t,
                      const F* __restrict m, const F* __restrict sp, F* __restrict gx,
                      F* __restrict c_u, F* __restrict c_a, F* __restrict c_s, int64_t len,
                      bool carried, bool cut_t, F alpha_u, F nbeta, F C_on, F r) {
  for (int64_t j = 0; j < len; ++j) {
    F gs;
    if constexpr (!HAS_GS)
      gs = c_s[j];
    else
      gs = carried ? gs_t[j] + c_s[j] : gs_t[j];
    const F hs = gs * h[j];
    F gu = std::fma(c_u[j], alpha_u, hs);
    if constexpr (HAS_GU) gu = gu + gu_t[j];
    gx[j] = HAS_M ? gu * m[j] : gu;
    if (cut_t) continue;
    const F s_prev = sp[j];
    c_u[j] = RESET == ZERO ? gu * (s_prev == F(0) ? C_on : F(0)) : gu;
    const F ga = std::fma(hs, nbeta, c_a[j]);
    F ca = ga * r;
    if constexpr (RESET == SUBTRACT) ca = std::fma(nbeta * s_prev, gu, ca);
    c_a[j] = ca;
    c_s[j] = ga;
  }
  if (cut_t)
    for (int64_t j = 0; j < len; ++j) c_u[j] = c_a[j] = c_s[j] = F(0);
}

// One step t of the ALIF backward pass's first pass: the adaptation A (from the checkpoint at the
// segment's first step, else A = r*A + S_prev), the threshold theta + beta*A, as the forward pass
// computes them, h = surrogate(U - threshold) (times M), as fill_h computes it, and the step's
// spike S = (U > threshold) (times M), as the forward pass decides it: the same floats compared,
// so the same spikes, which saves the backward pass reading S back.
template <typename F, int SURR, bool HAS_M, bool FIRST>
inline void alif_h_row(const F* __restrict ac, const F* __restrict sp, const F* __restrict u,
                       const F* __restrict m, F* __restrict a_, F* __restrict h,
                       F* __restrict s, int64_t len, F r, F beta, F theta, F c0, F c1) {
  for (int64_t j = 0; j < len; ++j) {
    const F A = FIRST ? ac[j] : std::fma(a_[j], r, sp[j]);
    a_[j] = A;
    F th = A * beta;
    th = th + theta;
    const F uj = u[j];
    F v = surrogate<F, SURR>(uj - th, c0, c1);
    F sj = uj > th ? F(1) : F(0);
    if constexpr (HAS_M) {
      v = v * m[j];
      sj = sj * m[j];
    }
    h[j] = v;
    s[j] = sj;
  }
}

template <typename F, int SURR, bool HAS_M>
void alif_h_rows(const F* ac, const F* U, const F* M, F* a_, F* h_seg, F* s_seg, int64_t t0,
                 int64_t t1, int64_t n, int64_t j0, int64_t len, F r, F beta, F theta, F c0,
                 F c1) {
  for (int64_t t = t0; t < t1; ++t) {
    const int64_t o = t * n + j0, k = (t - t0) * len;
    const F* m = HAS_M ? M + o : nullptr;
    if (t == t0)
      alif_h_row<F, SURR, HAS_M, true>(ac, ac, U + o, m, a_, h_seg + k, s_seg + k, len, r, beta,
                                       theta, c0, c1);
    else
      alif_h_row<F, SURR, HAS_M, false>(ac, s_seg + k - len, U + o, m, a_, h_seg + k, s_seg + k,
                                        len, r, beta, theta, c0, c1);
  }
}

template <typename F, bool HAS_M>
void alif_h_seg(int surr, const F* ac, const F* U, const F* M, F* a_, F* h_seg, F* s_seg,
                int64_t t0, int64_t t1, int64_t n, int64_t j0, int64_t len, F r, F beta, F theta,
                F c0, F c1) {
#define SNNC_H_ROWS(SURR_) \
  alif_h_rows<F, SURR_, HAS_M>(ac, U, M, a_, h_seg, s_seg, t0, t1, n, j0, len, r, beta, theta, \
                               c0, c1)
  switch (surr) {
    case FAST_SIGMOID: SNNC_H_ROWS(FAST_SIGMOID); break;
    case TRIANGLE: SNNC_H_ROWS(TRIANGLE); break;
    case EXPONENTIAL: SNNC_H_ROWS(EXPONENTIAL); break;
    case ATAN: SNNC_H_ROWS(ATAN); break;
    case SIGMOID: SNNC_H_ROWS(SIGMOID); break;
    case RECTANGULAR: SNNC_H_ROWS(RECTANGULAR); break;
    default: SNNC_H_ROWS(GIVEN); break;
  }
#undef SNNC_H_ROWS
}

// neurons.py's general path (ALIF): carries cU (unscaled), cA, cS = dL/dA. The thresholds come
// from TH ([T, n], when given: the QAT forward pass, or h given), or else segment by segment of
// g.K steps: a first pass forward in time recomputes them from the checkpoint and the membrane
// and stores h = surrogate(U - TH) (times M) and the spikes of the segment's steps in scratch
// buffers, then the recursion runs backward over the segment (reading S itself only for the step
// before the segment).
template <typename F, int RESET, bool HAS_M, bool HAS_GS, bool HAS_GU>
void backward_alif(const F* U, const F* S, const F* TH, const F* M, const F* gS_all,
                   const F* gU_all, F* gX, const BwdArgs& g, int64_t j0, int64_t len, F b, F r,
                   F beta, F theta, F c0, F c1) {
  F h_[BLOCK], c_u[BLOCK], c_a[BLOCK], c_s[BLOCK], gxl[BLOCK];
  for (int64_t j = 0; j < len; ++j) c_u[j] = c_a[j] = c_s[j] = F(0);
  const int64_t n = g.n;
  const F alpha_u = RESET == ZERO ? F(1) : b;
  const F nbeta = -beta;
  const F C_on = F(1) * b;
  const int64_t K = TH ? g.T : g.K;                        // segment length
  F* h_seg = TH ? nullptr : scratch<F>(2 * K * len);
  F* s_seg = TH ? nullptr : h_seg + K * len;
  for (int64_t t0 = (g.T - 1) / K * K; t0 >= 0; t0 -= K) {
    const int64_t t1 = std::min(t0 + K, g.T);
    if (!TH) {
      F a_[BLOCK];
      alif_h_seg<F, HAS_M>(g.surr, static_cast<const F*>(g.ac) + (t0 / K) * n + j0, U, M, a_,
                           h_seg, s_seg, t0, t1, n, j0, len, r, beta, theta, c0, c1);
    }
    for (int64_t t = t1 - 1; t >= t0; --t) {
      const int64_t o = t * n + j0;
      const bool carried = t + 1 < g.T && !cut(t + 1, g.tbptt);   // the carries are not zeros
      const bool cut_t = cut(t, g.tbptt);
      const F* h = h_;
      const F* sp = cut_t ? S + o : S + o - n;             // S[t-1], read when not cut
      if (TH) {
        fill_h<F>(g.surr, h_, U + o, TH + o, HAS_M ? M + o : nullptr, F(0), len, c0, c1);
      } else {
        h = h_seg + (t - t0) * len;
        if (t > t0) sp = s_seg + (t - 1 - t0) * len;       // recomputed in the first pass
      }
      alif_step<F, RESET, HAS_M, HAS_GS, HAS_GU>(
          h, HAS_GS ? gS_all + t * g.gs_ts + j0 : nullptr,
          HAS_GU ? gU_all + t * g.gu_ts + j0 : nullptr, HAS_M ? M + o : nullptr, sp, gxl, c_u,
          c_a, c_s, len, carried, cut_t, alpha_u, nbeta, C_on, r);
      store_row(gX + o, gxl, len, g.nt);
    }
  }
  store_fence(g.nt);
}

// The ALIF thresholds of all steps ([T, n]) from the checkpoints and the spikes.
template <typename F>
void thresholds(const F* S, const F* AC, F* TH, int64_t T, int64_t n, int64_t K, double r_,
                double beta_, double theta_, int nthreads) {
  const F r = (F)r_, beta = (F)beta_, theta = (F)theta_;
  const int64_t step = block_len(n, nthreads), nblocks = (n + step - 1) / step;
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1 && nblocks > 1)
  for (int64_t blk = 0; blk < nblocks; ++blk) {
    const int64_t j0 = blk * step, len = std::min(step, n - j0);
    F* seg = scratch<F>(K * len);
    for (int64_t t0 = 0; t0 < T; t0 += K) {
      const int64_t t1 = std::min(t0 + K, T);
      alif_thresholds<F>(S, AC, seg, K, t0, t1, n, j0, len, r, beta, theta);
      for (int64_t t = t0; t < t1; ++t)
        std::copy(seg + (t - t0) * len, seg + (t - t0 + 1) * len, TH + t * n + j0);
    }
  }
}

template <typename F, bool HAS_M, bool HAS_GS, bool HAS_GU>
void backward_block(int kind, int reset, const F* U, const F* S, const F* TH, const F* M,
                    const F* gS, const F* gU, F* gX, const BwdArgs& g, int64_t j0, int64_t len,
                    F b, F a, F r, F beta, F theta, F c0, F c1) {
  if (kind == ALIF) {
    if (reset == ZERO)
      backward_alif<F, ZERO, HAS_M, HAS_GS, HAS_GU>(U, S, TH, M, gS, gU, gX, g, j0, len, b, r,
                                                    beta, theta, c0, c1);
    else if (reset == NONE)
      backward_alif<F, NONE, HAS_M, HAS_GS, HAS_GU>(U, S, TH, M, gS, gU, gX, g, j0, len, b, r,
                                                    beta, theta, c0, c1);
    else
      backward_alif<F, SUBTRACT, HAS_M, HAS_GS, HAS_GU>(U, S, TH, M, gS, gU, gX, g, j0, len, b, r,
                                                        beta, theta, c0, c1);
  } else {
    const bool cuba = kind == CUBA, zero = reset == ZERO;
    if (cuba && zero)
      backward_linear<F, true, true, HAS_M, HAS_GS, HAS_GU>(U, S, M, gS, gU, gX, g, j0, len, b, a,
                                                            theta, c0, c1);
    else if (cuba)
      backward_linear<F, true, false, HAS_M, HAS_GS, HAS_GU>(U, S, M, gS, gU, gX, g, j0, len, b, a,
                                                             theta, c0, c1);
    else if (zero)
      backward_linear<F, false, true, HAS_M, HAS_GS, HAS_GU>(U, S, M, gS, gU, gX, g, j0, len, b, a,
                                                             theta, c0, c1);
    else
      backward_linear<F, false, false, HAS_M, HAS_GS, HAS_GU>(U, S, M, gS, gU, gX, g, j0, len, b,
                                                              a, theta, c0, c1);
  }
}

template <typename F, bool HAS_M>
void backward_m(int kind, int reset, const F* U, const F* S, const F* TH, const F* M, const F* gS,
                const F* gU, F* gX, const BwdArgs& g, int64_t j0, int64_t len, F b, F a, F r,
                F beta, F theta, F c0, F c1) {
  if (gS && gU)
    backward_block<F, HAS_M, true, true>(kind, reset, U, S, TH, M, gS, gU, gX, g, j0, len, b, a, r,
                                         beta, theta, c0, c1);
  else if (gS)
    backward_block<F, HAS_M, true, false>(kind, reset, U, S, TH, M, gS, gU, gX, g, j0, len, b, a,
                                          r, beta, theta, c0, c1);
  else
    backward_block<F, HAS_M, false, true>(kind, reset, U, S, TH, M, gS, gU, gX, g, j0, len, b, a,
                                          r, beta, theta, c0, c1);
}

template <typename F>
void backward(const F* U, const F* S, const F* TH, const F* AC, int64_t K, const F* M,
              const F* gS_all, const F* gU_all, F* gX, int64_t T, int64_t n, int kind, int reset,
              double b_, double a_, double r_, double beta_, double theta_, int surr, double c0_,
              double c1_, int64_t tbptt, int64_t gs_ts, int64_t gu_ts, int nthreads) {
  const F b = (F)b_, a = (F)a_, r = (F)r_, beta = (F)beta_, theta = (F)theta_;
  const F c0 = (F)c0_, c1 = (F)c1_;
  const BwdArgs g{T, n, tbptt, surr, gs_ts, gu_ts, AC, K,
                  T * n * int64_t(sizeof(F)) >= NT_MIN};
  const int64_t step = block_len(n, nthreads), nblocks = (n + step - 1) / step;
#pragma omp parallel for schedule(static) num_threads(nthreads) if (nthreads > 1 && nblocks > 1)
  for (int64_t blk = 0; blk < nblocks; ++blk) {
    const int64_t j0 = blk * step, len = std::min(step, n - j0);
    if (M)
      backward_m<F, true>(kind, reset, U, S, TH, M, gS_all, gU_all, gX, g, j0, len, b, a, r, beta,
                          theta, c0, c1);
    else
      backward_m<F, false>(kind, reset, U, S, TH, M, gS_all, gU_all, gX, g, j0, len, b, a, r, beta,
                           theta, c0, c1);
  }
}

}  // namespace

extern "C" {

int snnc_scan_abi_version() { return 6; }

void snnc_forward_f32(const float* X, int64_t xs, float* U, float* S, float* AC, int64_t K,
                      float* M, float* C, int64_t T, int64_t n, int kind, int reset, int64_t refractory,
                      double b, double a, double r, double beta, double theta, int nthreads) {
  forward<float>(X, xs, U, S, AC, K, M, C, T, n, kind, reset, refractory, b, a, r, beta, theta,
                 nthreads);
}

void snnc_forward_f64(const double* X, int64_t xs, double* U, double* S, double* AC, int64_t K,
                      double* M, double* C, int64_t T, int64_t n, int kind, int reset, int64_t refractory,
                      double b, double a, double r, double beta, double theta, int nthreads) {
  forward<double>(X, xs, U, S, AC, K, M, C, T, n, kind, reset, refractory, b, a, r, beta, theta,
                  nthreads);
}

void snnc_backward_f32(const float* U, const float* S, const float* TH, const float* AC,
                       int64_t K, const float* M, const float* gS, const float* gU, float* gX,
                       int64_t T, int64_t n, int kind, int reset, double b, double a, double r,
                       double beta, double theta, int surr, double c0, double c1, int64_t tbptt,
                       int64_t gs_ts, int64_t gu_ts, int nthreads) {
  backward<float>(U, S, TH, AC, K, M, gS, gU, gX, T, n, kind, reset, b, a, r, beta, theta, surr,
                  c0, c1, tbptt, gs_ts, gu_ts, nthreads);
}

void snnc_backward_f64(const double* U, const double* S, const double* TH, const double* AC,
                       int64_t K, const double* M, const double* gS, const double* gU, double* gX,
                       int64_t T, int64_t n, int kind, int reset, double b, double a, double r,
                       double beta, double theta, int surr, double c0, double c1, int64_t tbptt,
                       int64_t gs_ts, int64_t gu_ts, int nthreads) {
  backward<double>(U, S, TH, AC, K, M, gS, gU, gX, T, n, kind, reset, b, a, r, beta, theta, surr,
                   c0, c1, tbptt, gs_ts, gu_ts, nthreads);
}

void snnc_thresholds_f32(const float* S, const float* AC, float* TH, int64_t T, int64_t n,
                         int64_t K, double r, double beta, double theta, int nthreads) {
  thresholds<float>(S, AC, TH, T, n, K, r, beta, theta, nthreads);
}

void snnc_thresholds_f64(const double* S, const double* AC, double* TH, int64_t T, int64_t n,
                         int64_t K, double r, double beta, double theta, int nthreads) {
  thresholds<double>(S, AC, TH, T, n, K, r, beta, theta, nthreads);
}

}  // extern "C"
