// snn_neuron.h -- one step of a built-in neuron (IF, LIF, CubaLIF, ALIF), docs/semantics.md
// sections 3 and 4, bit-exact to the golden model (snnc.backends.golden) and hw/snn_neuron_unit.v.
//
// A neuron is a policy class used by the layer templates of snn_layer.h:
//   state_t       the state of one neuron
//   counters_t    the saturation counters of a layer (one per state)
//   init(st)      the state after reset
//   step(in, st, cnt) -> spike   one step with the input `in` (IN_FRAC fractional bits)
// A user-defined neuron is a generated class with the same members.
//
// builtin_neuron<C> reads its constants from C (generated per layer):
//   KIND (KIND_IF..KIND_ALIF), RESET (RESET_SUBTRACT..RESET_NONE), LEAK (snn_fixed.h)
//   MEM_DECAY, SYN_DECAY, ADAPT_DECAY   coefficients in [0, 2^16) (multiply) or shifts k (shift)
//   THRESHOLD (membrane units), BETA (16 fractional bits), REFRACTORY (steps)
//   IN_FRAC, U_FRAC, I_FRAC, A_FRAC     fractional bits of the input and of U, I, A
//   U_MIN, U_MAX, I_MIN, I_MAX, A_MIN, A_MAX   the formats' ranges
//   u_t, i_t, a_t, r_t                  exact-width storage types
#ifndef SNN_NEURON_H
#define SNN_NEURON_H

#include "snn_fixed.h"

namespace snn {

// neuron kinds and reset modes (snnc.hw.KIND_CODES, snnc.hw.RESET_CODES)
const int KIND_IF = 0;
const int KIND_LIF = 1;
const int KIND_CUBALIF = 2;
const int KIND_ALIF = 3;
const int RESET_SUBTRACT = 0;
const int RESET_ZERO = 1;
const int RESET_NONE = 2;

typedef ap_uint<32> counter_t;

struct builtin_counters {
    counter_t u;
    counter_t i;
    counter_t a;
};

template <class C>
struct builtin_neuron {
    struct state_t {
        typename C::u_t u;
        typename C::i_t i;
        typename C::a_t a;
        ap_uint<1> s;
        typename C::r_t r;
    };
    typedef builtin_counters counters_t;

    static void init(state_t& st) {
        st.u = 0;
        st.i = 0;
        st.a = 0;
        st.s = 0;
        st.r = 0;
    }

    // beta * A in membrane units: rescale(BETA * A, 16 + A_FRAC, U_FRAC)
    static i64 beta_a(i64 a) { return rescale<COEF_FRAC + C::A_FRAC, C::U_FRAC>(C::BETA * a); }

    static bool step(i64 in, state_t& st, counters_t& cnt) {
        const bool refr = C::REFRACTORY > 0 && static_cast<i64>(st.r) > 0;
        i64 x = in;
        if (C::KIND == KIND_CUBALIF) {
            // the current integrates `in` even while refractory
            const i64 cur = saturate<C::I_MIN, C::I_MAX>(
                decay<C::LEAK, C::SYN_DECAY>(static_cast<i64>(st.i)) + in, cnt.i);
            st.i = cur;
            x = rescale<C::I_FRAC, C::U_FRAC>(cur);
        }
        if (refr) x = 0;
        const bool s_prev = static_cast<i64>(st.s) != 0;
        i64 th_prev = C::THRESHOLD;
        i64 th_now = C::THRESHOLD;
        if (C::KIND == KIND_ALIF) {
            const i64 a_old = static_cast<i64>(st.a);
            th_prev = C::THRESHOLD + beta_a(a_old);
            const i64 inc = s_prev ? shl(1, C::A_FRAC) : 0;
            const i64 a_new = saturate<C::A_MIN, C::A_MAX>(
                decay<C::LEAK, C::ADAPT_DECAY>(a_old) + inc, cnt.a);
            st.a = a_new;
            th_now = C::THRESHOLD + beta_a(a_new);
        }
        const i64 u_dec = decay<C::LEAK, C::MEM_DECAY>(static_cast<i64>(st.u));
        i64 u;
        if (C::RESET == RESET_SUBTRACT) {
            u = u_dec + x - (s_prev ? th_prev : 0);
        } else if (C::RESET == RESET_ZERO) {
            u = (s_prev ? 0 : u_dec) + x;
        } else {
            u = u_dec + x;
        }
        u = saturate<C::U_MIN, C::U_MAX>(u, cnt.u);
        st.u = u;
        const bool s = u > th_now && !refr;
        if (C::REFRACTORY > 0) {
            const i64 r = static_cast<i64>(st.r);
            st.r = s ? static_cast<i64>(C::REFRACTORY) : (r > 0 ? r - 1 : 0);
        }
        st.s = s;
        return s;
    }
};

}  // namespace snn

#endif  // SNN_NEURON_H
