// Event-driven synaptic input for the torch target: a dense layer's input for all steps,
// Y = S W^T (+ bias), and its weight gradient, dW^T = S^T G, computed from the non-zeros of S only.
//
// Compiled into the same library as native_scan.cpp (native_scan.py builds and loads it) and
// called through ctypes by event_synapse.py. S ([R, N], R = T * B rows of presynaptic spikes or
// values) is mostly zeros in a spiking network; the dense matmul multiplies every weight anyway,
// these kernels only add a weight row per non-zero (a synaptic operation, as the accelerator
// does). Each output element is sum_k v_k * w_k over the row's non-zeros in increasing order, as
// a chain of fused multiply-adds from 0 (bias added after): for spikes (v = 1) every product is
// exact, so the only rounding is the sum's, as in a matmul (whose order of summation differs:
// results agree to rounding, not bit for bit).
//
// Blocking: the forward pass takes RB rows at a time, lists their non-zeros once, then sweeps
// column tiles of TM outputs, so that a tile of W^T (N * TM values) stays in the L2 cache while
// the block's rows gather from it. The weight gradient splits the rows between threads, each
// adding into its own dW^T (summed at the end); per block of rows it sorts the non-zeros by input
// (counting sort) and adds, per input and column tile, the block's gradient rows of that input in
// registers before touching dW^T once.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

constexpr int64_t FWD_ROWS = 64;     // rows per forward block (16-256 measured alike)
constexpr int64_t DW_ROWS = 64;      // rows per weight-gradient block
constexpr int TILE = 128;            // output columns per tile (f32: 8 AVX-512 registers)

template <typename T>
T* scratch(int64_t count) {
  static thread_local std::vector<T> buf;
  if ((int64_t)buf.size() < count) buf.resize(count);
  return buf.data();
}

// The non-zeros of s[0:n]: positions into idx, values into val, in increasing order; how many.
template <typename F>
inline int64_t nonzeros(const F* __restrict s, int64_t n, int32_t* __restrict idx,
                        F* __restrict val) {
  int64_t k = 0;
  for (int64_t i = 0; i < n; ++i) {       // branch-free: written always, kept if non-zero
    const F v = s[i];
    idx[k] = int32_t(i);
    val[k] = v;
    k += v != F(0);
  }
  return k;
}

// y[j] = sum_q val[q] * w[idx[q] * ldw + j] for j < W (W a constant: the sums stay in registers),
// or for j < width when W == 0.
template <typename F, int W>
inline void gather_sum(const int32_t* __restrict idx, const F* __restrict val, int64_t k,
                       const F* __restrict w, int64_t ldw, F* __restrict y, int64_t width) {
  if constexpr (W > 0) {
    F acc[W];
#pragma GCC unroll 128
    for (int j = 0; j < W; ++j) acc[j] = F(0);
    for (int64_t q = 0; q < k; ++q) {
      const F* __restrict row = w + int64_t(idx[q]) * ldw;
      const F c = val[q];
#pragma GCC unroll 128
      for (int j = 0; j < W; ++j) acc[j] = std::fma(c, row[j], acc[j]);
    }
#pragma GCC unroll 128
    for (int j = 0; j < W; ++j) y[j] = acc[j];
  } else {
    for (int64_t j = 0; j < width; ++j) y[j] = F(0);
    for (int64_t q = 0; q < k; ++q) {
      const F* __restrict row = w + int64_t(idx[q]) * ldw;
      const F c = val[q];
      for (int64_t j = 0; j < width; ++j) y[j] = std::fma(c, row[j], y[j]);
    }
  }
}

// Columns [m0, M) of one row: full tiles, then the rest.
template <typename F>
inline void gather_row(const int32_t* idx, const F* val, int64_t k, const F* w, int64_t ldw,
                       F* y, int64_t m0, int64_t m1) {
  constexpr int TW = TILE * 4 / int(sizeof(F));   // the same bytes per tile for f32 and f64
  if (m1 - m0 == TW)
    gather_sum<F, TW>(idx, val, k, w + m0, ldw, y + m0, TW);
  else
    gather_sum<F, 0>(idx, val, k, w + m0, ldw, y + m0, m1 - m0);
}

template <typename F>
void forward(const F* S, const F* WT, const F* bias, F* Y, int64_t R, int64_t N, int64_t M,
             int nthreads) {
  constexpr int64_t TW = TILE * 4 / int64_t(sizeof(F));
  const int64_t nb = (R + FWD_ROWS - 1) / FWD_ROWS;
#pragma omp parallel num_threads(nthreads) if (nthreads > 1 && nb > 1)
  {
    int32_t* idx = scratch<int32_t>(FWD_ROWS * N + FWD_ROWS + 1);
    int32_t* off = idx + FWD_ROWS * N;
    F* val = scratch<F>(FWD_ROWS * N);
#pragma omp for schedule(static)
    for (int64_t b = 0; b < nb; ++b) {
      const int64_t r0 = b * FWD_ROWS, r1 = std::min(R, r0 + FWD_ROWS);
      off[0] = 0;
      for (int64_t r = r0; r < r1; ++r)
        off[r - r0 + 1] = off[r - r0] + int32_t(nonzeros(S + r * N, N, idx + off[r - r0],
                                                         val + off[r - r0]));
      for (int64_t m0 = 0; m0 < M; m0 += TW) {
        const int64_t m1 = std::min(M, m0 + TW);
        for (int64_t r = r0; r < r1; ++r) {
          const int64_t k0 = off[r - r0];
          gather_row<F>(idx + k0, val + k0, off[r - r0 + 1] - k0, WT, M, Y + r * M, m0, m1);
        }
      }
      if (bias)
        for (int64_t r = r0; r < r1; ++r)
          for (int64_t m = 0; m < M; ++m) Y[r * M + m] += bias[m];
    }
  }
}

// dWT[N, M] = S^T G (overwritten).
template <typename F>
void weight_grad(const F* S, const F* G, F* dWT, int64_t R, int64_t N, int64_t M, int nthreads) {
  constexpr int64_t TW = TILE * 4 / int64_t(sizeof(F));
  const int nt = std::max(1, int(std::min<int64_t>(nthreads, (R + DW_ROWS - 1) / DW_ROWS)));
  std::vector<F> part(size_t(nt - 1) * N * M);
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    int th = 0, team = 1;      // the team OpenMP gave (it may be smaller than asked for)
#ifdef _OPENMP
    th = omp_get_thread_num();
    team = omp_get_num_threads();
#endif
    F* D = th == 0 ? dWT : part.data() + size_t(th - 1) * N * M;   // unused partials stay zero
    if (th == 0) std::fill(D, D + N * M, F(0));
    const int64_t per = (R + team - 1) / team;
    const int64_t r0 = std::min(R, th * per), r1 = std::min(R, r0 + per);
    int32_t* start = scratch<int32_t>(N + 1 + DW_ROWS * N);   // per input: where its rows start
    int32_t* rows = start + N + 1;
    F* vals = scratch<F>(DW_ROWS * N + TW);
    F* sums = vals + DW_ROWS * N;
    for (int64_t b0 = r0; b0 < r1; b0 += DW_ROWS) {
      const int64_t b1 = std::min(r1, b0 + DW_ROWS);
      std::fill(start, start + N + 1, 0);
      for (int64_t r = b0; r < b1; ++r) {
        const F* s = S + r * N;
        for (int64_t i = 0; i < N; ++i) start[i + 1] += s[i] != F(0);
      }
      for (int64_t i = 0; i < N; ++i) start[i + 1] += start[i];
      for (int64_t r = b0; r < b1; ++r) {            // rows in increasing order per input
        const F* s = S + r * N;
        for (int64_t i = 0; i < N; ++i)
          if (s[i] != F(0)) {
            const int32_t p = start[i]++;
            rows[p] = int32_t(r);
            vals[p] = s[i];
          }
      }
      for (int64_t i = N; i > 0; --i) start[i] = start[i - 1];   // back to the starts
      start[0] = 0;
      for (int64_t m0 = 0; m0 < M; m0 += TW) {
        const int64_t m1 = std::min(M, m0 + TW);
        for (int64_t i = 0; i < N; ++i) {
          const int64_t k0 = start[i], k = start[i + 1] - k0;
          if (k == 0) continue;
          if (m1 - m0 == TW)
            gather_sum<F, TW>(rows + k0, vals + k0, k, G + m0, M, sums, TW);
          else
            gather_sum<F, 0>(rows + k0, vals + k0, k, G + m0, M, sums, m1 - m0);
          F* __restrict d = D + i * M;
          for (int64_t m = m0; m < m1; ++m) d[m] += sums[m - m0];
        }
      }
    }
  }
  for (int t = 1; t < nt; ++t) {
    const F* p = part.data() + size_t(t - 1) * N * M;
    for (int64_t j = 0; j < N * M; ++j) dWT[j] += p[j];
  }
}

}  // namespace

extern "C" {

void snnc_event_forward_f32(const float* S, const float* WT, const float* bias, float* Y, int64_t R,
                            int64_t N, int64_t M, int nthreads) {
  forward<float>(S, WT, bias, Y, R, N, M, nthreads);
}

void snnc_event_forward_f64(const double* S, const double* WT, const double* bias, double* Y,
                            int64_t R, int64_t N, int64_t M, int nthreads) {
  forward<double>(S, WT, bias, Y, R, N, M, nthreads);
}

void snnc_event_weight_grad_f32(const float* S, const float* G, float* dWT, int64_t R, int64_t N,
                                int64_t M, int nthreads) {
  weight_grad<float>(S, G, dWT, R, N, M, nthreads);
}

void snnc_event_weight_grad_f64(const double* S, const double* G, double* dWT, int64_t R,
                                int64_t N, int64_t M, int nthreads) {
  weight_grad<double>(S, G, dWT, R, N, M, nthreads);
}

}  // extern "C"
