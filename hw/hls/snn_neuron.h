// snn_neuron.h -- one step of a built-in neuron (IF, LIF, CubaLIF, ALIF, and the adaptive
// spiking neuron ASN), docs/semantics.md sections 3 and 4, bit-exact to the golden model
// (snnc.backends.golden); IF..ALIF also to hw/snn_neuron_unit.v.
//
// A neuron is a policy class used by the layer templates of snn_layer.h:
//   state_t       the state of one neuron
//   counters_t    the saturation counters of a layer (one per state)
//   GRADED        whether its events carry a graded payload (ASN) or are plain spikes
//   init(st)      the state after reset
//   step(in, st, cnt) -> spike   one step with the input `in` (IN_FRAC fractional bits)
//   payload(st)   the payload of the event just sent (after a step that spiked): 1 for a plain
//                 spike, the spike's height in membrane units for an ASN
// A user-defined neuron is a generated class with the same members (backends/hls/exprgen.py);
// one whose spike condition has `emit HEIGHT` is GRADED and its payload is that height.
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
    static const bool GRADED = false;

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

    static i64 payload(const state_t&) { return 1; }
};

// The adaptive spiking neuron (Zambrano & Bohte 2016; docs/semantics.md "ASN and ReLU in
// integers"): a sigma-delta coder whose events carry the threshold at spike time as payload.
// asn_neuron<C> reads from C (generated per layer):
//   LEAK (LEAK_MULTIPLY or LEAK_SHIFT), MEM_DECAY (tau_beta: U), ADAPT_DECAY (tau_gamma: A),
//   PRED_DECAY (tau_eta: P)              coefficients in [0, 2^16) or shifts k
//   THRESHOLD                            theta0 in membrane units (1 .. U_MAX)
//   M_F                                  the adaptation factor m_f, 16 fractional bits
//   U_FRAC, A_FRAC                       fractional bits of U, P, H (membrane) and of A
//   U_MIN, U_MAX, A_MIN, A_MAX           the membrane's and the adaptation's ranges
//   u_t, a_t                             exact-width storage types (U, P and H are u_t)
// One step, with every intermediate in 64 bits:
//   U = sat_U(decay_b(U) + in)
//   A = decay_g(A);  P = decay_e(P)      (a decay cannot leave the format: no saturation)
//   theta = THRESHOLD + rescale(A, A_FRAC, U_FRAC)       (exact; may exceed U_MAX)
//   S = 2 * (U - P) > theta
//   where S: H = sat_U(theta) (the payload, counted in `h`), P = sat_U(P + H),
//            A = sat_A(A + rescale(M_F * H, 16 + U_FRAC, A_FRAC))
//   else     H = 0
// The saturations of P, A and H are counted only on a spike (they happen only there).
struct asn_counters {
    counter_t u;
    counter_t p;
    counter_t a;
    counter_t h;
};

template <class C>
struct asn_neuron {
    struct state_t {
        typename C::u_t u;
        typename C::u_t p;
        typename C::a_t a;
        typename C::u_t h;
        ap_uint<1> s;
    };
    typedef asn_counters counters_t;
    static const bool GRADED = true;

    static void init(state_t& st) {
        st.u = 0;
        st.p = 0;
        st.a = 0;
        st.h = 0;
        st.s = 0;
    }

    static bool step(i64 in, state_t& st, counters_t& cnt) {
        const i64 u = saturate<C::U_MIN, C::U_MAX>(
            decay<C::LEAK, C::MEM_DECAY>(static_cast<i64>(st.u)) + in, cnt.u);
        i64 a = decay<C::LEAK, C::ADAPT_DECAY>(static_cast<i64>(st.a));
        i64 p = decay<C::LEAK, C::PRED_DECAY>(static_cast<i64>(st.p));
        const i64 theta = C::THRESHOLD + rescale<C::A_FRAC, C::U_FRAC>(a);
        const bool s = 2 * (u - p) > theta;
        i64 h = 0;
        if (s) {
            h = saturate<C::U_MIN, C::U_MAX>(theta, cnt.h);
            p = saturate<C::U_MIN, C::U_MAX>(p + h, cnt.p);
            a = saturate<C::A_MIN, C::A_MAX>(
                a + rescale<COEF_FRAC + C::U_FRAC, C::A_FRAC>(C::M_F * h), cnt.a);
        }
        st.u = u;
        st.p = p;
        st.a = a;
        st.h = h;
        st.s = s;
        return s;
    }

    // the height of the event sent by the last step (0 when it did not spike)
    static i64 payload(const state_t& st) { return static_cast<i64>(st.h); }
};

}  // namespace snn

#endif  // SNN_NEURON_H
