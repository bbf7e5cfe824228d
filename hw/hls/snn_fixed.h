// snn_fixed.h -- the fixed-point primitives of docs/semantics.md section 4, in C++.
//
// Bit-exact to snnc.fixedpoint (the golden model) and hw/snn_rescale.v, hw/snn_decay.v,
// hw/snn_sat.v: every intermediate is a 64-bit integer (wide enough for the formats snnc accepts),
// right shifts of signed values floor (arithmetic shift), rounding is half up, and saturation is
// done once per state update and counted.
#ifndef SNN_FIXED_H
#define SNN_FIXED_H

#include "hls_compat.h"

namespace snn {

typedef long long i64;

// fractional bits of coefficients (decays, beta, constants multiplying a variable)
const int COEF_FRAC = 16;

// leak modes (snnc.hw.LEAK_CODES)
const int LEAK_NONE = 0;
const int LEAK_MULTIPLY = 1;
const int LEAK_SHIFT = 2;

// x * 2^k for k >= 0, written as a multiplication (a left shift of a negative value is not
// defined before C++20)
inline i64 shl(i64 x, int k) { return x * (static_cast<i64>(1) << k); }

// (x + 2^(s-1)) >> s: divide by 2^s rounding half up; s > 0
inline i64 rshift_round(i64 x, int s) { return (x + (static_cast<i64>(1) << (s - 1))) >> s; }

// move x from FROM to TO fractional bits: exact left shift, or rounding right shift
template <int FROM, int TO>
inline i64 rescale(i64 x) {
    if (TO >= FROM) return shl(x, TO - FROM);
    return rshift_round(x, FROM - TO);
}

// multiply by a 16-fractional-bit coefficient c: rshift_round(c * x, 16)
inline i64 cmul(i64 c, i64 x) { return rshift_round(c * x, COEF_FRAC); }

// the leak of docs/semantics.md: none, cmul(F, v), or v - (v >> F)
template <int LEAK, int F>
inline i64 decay(i64 v) {
    if (LEAK == LEAK_MULTIPLY) return cmul(F, v);
    if (LEAK == LEAK_SHIFT) return v - (v >> F);
    return v;
}

// clamp v to [LO, HI]; counts the clamp in `count`
template <i64 LO, i64 HI, class COUNTER>
inline i64 saturate(i64 v, COUNTER& count) {
    if (v < LO) {
        count = count + 1;
        return LO;
    }
    if (v > HI) {
        count = count + 1;
        return HI;
    }
    return v;
}

// product of two values with F fractional bits: rshift_round(x * y, F) (exact for F = 0)
template <int F>
inline i64 mul_round(i64 x, i64 y) {
    if (F > 0) return rshift_round(x * y, F > 0 ? F : 1);
    return x * y;
}

inline i64 min64(i64 a, i64 b) { return a < b ? a : b; }
inline i64 max64(i64 a, i64 b) { return a > b ? a : b; }
inline i64 clip64(i64 v, i64 lo, i64 hi) { return min64(max64(v, lo), hi); }
inline i64 abs64(i64 v) { return v < 0 ? -v : v; }

}  // namespace snn

#endif  // SNN_FIXED_H
