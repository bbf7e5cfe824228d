// snn_layer.h -- the event-driven layer of snnc's HLS accelerator (docs/semantics.md section 1).
//
// A layer of N neurons, padded to NP = ceil(N / P) * P, updated P lanes at a time:
//   * accumulate: an input event from source neuron j reads row j of the weight array W[M][NP]
//     (partitioned cyclic by P along the neurons) and adds it, times the event's signed payload
//     for a graded source (a direct input's value, an ASN layer's spike height), to the NP
//     accumulators: ceil(NP / P) words at one word per cycle (II = 1);
//   * consume_events: accumulate every event of an event list (events, not a scan of the inputs);
//   * sweep: at the end of the step, every neuron steps with its accumulator rescaled to the
//     neuron's input fraction, its spike goes to the layer's output event list (ascending
//     addresses) and the accumulator restarts from the bias (or 0): ceil(NP / P) cycles;
//   * delays: a ring of D event lists replays a source's events D steps later.
// Accumulators are exact (the quantizer's acc_bits never overflow); states saturate only inside
// the neuron's step, never per event, so the event order does not matter.
#ifndef SNN_LAYER_H
#define SNN_LAYER_H

#include "snn_neuron.h"

#ifndef __SYNTHESIS__
#include <stdexcept>
#include <string>
#endif

namespace snn {

// The next record of a step's input stream. Every step must end with an end-of-step token (an
// event with last = 1). Synthesised, the read blocks on an empty stream: the hardware waits for
// the token. In C simulation nothing writes the stream while `top` runs, so an empty stream means
// the caller left the token out: a std::runtime_error saying so (the testbench reports it with
// the sample and step) instead of a wait that never ends.
template <class T>
inline T read_step_event(hls::stream<T>& s, const char* top) {
#ifndef __SYNTHESIS__
    if (s.empty())
        throw std::runtime_error(std::string(top) + ": the input stream ran empty before the "
                                 "step's end-of-step token (an event with last = 1); every call "
                                 "needs its step's events followed by the token (synthesised, "
                                 "this read would block: the hardware waits for the token)");
#else
    (void)top;
#endif
    return s.read();
}

// the events of one node in one step: addresses and payloads of the first n entries. CAP is the
// capacity: an input's or a layer's size (a layer spikes at most once per neuron and step; an
// input sends each address at most once a step). events_push refuses an event beyond it; the
// top counts refused input events (dropped_over_capacity), and a layer never reaches it.
template <int CAP, class ADDR_T, class PAY_T>
struct event_list {
    ADDR_T addr[CAP];
    PAY_T pay[CAP];
    int n;
};

template <int CAP, class ADDR_T, class PAY_T>
inline void events_clear(event_list<CAP, ADDR_T, PAY_T>& ev) {
    ev.n = 0;
}

// append one event; returns false (and drops it) when the list is full
template <int CAP, class ADDR_T, class PAY_T>
inline bool events_push(event_list<CAP, ADDR_T, PAY_T>& ev, i64 addr, i64 pay) {
    if (ev.n >= CAP) return false;
    ev.addr[ev.n] = addr;
    ev.pay[ev.n] = pay;
    ev.n = ev.n + 1;
    return true;
}

template <int CAP, class ADDR_T, class PAY_T>
inline void events_copy(event_list<CAP, ADDR_T, PAY_T>& dst, const event_list<CAP, ADDR_T, PAY_T>& src) {
    SNN_LOOP(copy_events)
    for (int e = 0; e < src.n; e++) {
        SNN_HLS(PIPELINE II=1)
        dst.addr[e] = src.addr[e];
        dst.pay[e] = src.pay[e];
    }
    dst.n = src.n;
}

// acc[n] += (W[j][n] << SHIFT) * payload for the NP neurons, P lanes per cycle.
// GRADED = false: a plain spike, the payload is not read (no multiplier).
template <int P, int M, int NP, int SHIFT, bool GRADED, class ACC_T, class W_T>
inline void accumulate(ACC_T (&acc)[NP], const W_T (&w)[M][NP], int j, i64 payload) {
    SNN_LOOP(accumulate_words)
    for (int k = 0; k < NP / P; k++) {
        SNN_HLS(PIPELINE II=1)
        SNN_LOOP(accumulate_lanes)
        for (int p = 0; p < P; p++) {
            SNN_HLS(UNROLL)
            const int n = k * P + p;
            const i64 wv = shl(static_cast<i64>(w[j][n]), SHIFT);
            acc[n] = static_cast<i64>(acc[n]) + (GRADED ? wv * payload : wv);
        }
    }
}

// accumulate every event of `ev` (addresses at or above M are ignored)
template <int P, int M, int NP, int SHIFT, bool GRADED, class ACC_T, class W_T, int CAP,
          class ADDR_T, class PAY_T>
inline void consume_events(ACC_T (&acc)[NP], const W_T (&w)[M][NP],
                           const event_list<CAP, ADDR_T, PAY_T>& ev) {
    SNN_LOOP(consume)
    for (int e = 0; e < ev.n; e++) {
        const i64 j = static_cast<i64>(ev.addr[e]);
        if (j < M) accumulate<P, M, NP, SHIFT, GRADED>(acc, w, static_cast<int>(j),
                                                       static_cast<i64>(ev.pay[e]));
    }
}

// The end-of-step update of the N neurons. ACC_FRAC: the accumulator's fractional bits, IN_FRAC:
// the neuron input's; `out` receives the spikes in ascending order with NEURON::payload as their
// payload (1 for plain spikes, the height of a graded ASN event); the accumulators restart at
// `init(n)` (the bias in accumulator units, or 0), except with HOLD: a layer reading a held
// direct input, whose events carry the changes of its values, keeps its accumulators (their sum
// since the clear is the input's W x).
template <class NEURON, int N, int P, int NP, int ACC_FRAC, int IN_FRAC, bool HOLD = false,
          class ACC_T, class INIT, int CAP, class ADDR_T, class PAY_T>
inline void sweep(ACC_T (&acc)[NP], typename NEURON::state_t (&st)[NP], ap_uint<1> (&spk)[NP],
                  event_list<CAP, ADDR_T, PAY_T>& out, typename NEURON::counters_t& cnt,
                  const INIT& init) {
    out.n = 0;
    SNN_LOOP(sweep_words)
    for (int k = 0; k < NP / P; k++) {
        SNN_HLS(PIPELINE II=1)
        SNN_LOOP(sweep_lanes)
        for (int p = 0; p < P; p++) {
            SNN_HLS(UNROLL)
            const int n = k * P + p;
            if (n < N) {
                const i64 in = rescale<ACC_FRAC, IN_FRAC>(static_cast<i64>(acc[n]));
                const bool s = NEURON::step(in, st[n], cnt);
                spk[n] = s;
                if (s) events_push(out, n, NEURON::GRADED ? NEURON::payload(st[n]) : 1);
            }
            if (!HOLD) acc[n] = init(n);
        }
    }
}

// accumulator initial values: none ...
struct no_bias {
    i64 operator()(int) const { return 0; }
};

// ... or the bias, shifted left by SHIFT to the accumulator's fraction
template <int NP, int SHIFT, class B_T>
struct with_bias {
    const B_T (&b)[NP];
    explicit with_bias(const B_T (&bias)[NP]) : b(bias) {}
    i64 operator()(int n) const { return shl(static_cast<i64>(b[n]), SHIFT); }
};

// reset a layer: accumulators to their initial value, neurons to their initial state, no spikes
template <class NEURON, int NP, class ACC_T, class INIT, int CAP, class ADDR_T, class PAY_T>
inline void layer_clear(ACC_T (&acc)[NP], typename NEURON::state_t (&st)[NP], ap_uint<1> (&spk)[NP],
                        event_list<CAP, ADDR_T, PAY_T>& out, const INIT& init) {
    SNN_LOOP(clear_neurons)
    for (int n = 0; n < NP; n++) {
        SNN_HLS(PIPELINE II=1)
        acc[n] = init(n);
        NEURON::init(st[n]);
        spk[n] = 0;
    }
    out.n = 0;
}

// A synaptic delay of D >= 1 steps: slot `head` holds the source's events of step t - D.
template <int D, int CAP, class ADDR_T, class PAY_T>
struct delay_line {
    event_list<CAP, ADDR_T, PAY_T> slot[D];
    int head;
};

template <int D, int CAP, class ADDR_T, class PAY_T>
inline void delay_clear(delay_line<D, CAP, ADDR_T, PAY_T>& dl) {
    for (int d = 0; d < D; d++) dl.slot[d].n = 0;
    dl.head = 0;
}

// the events of step t - D (valid until delay_push)
template <int D, int CAP, class ADDR_T, class PAY_T>
inline const event_list<CAP, ADDR_T, PAY_T>& delay_front(const delay_line<D, CAP, ADDR_T, PAY_T>& dl) {
    return dl.slot[dl.head];
}

// store this step's events in place of the ones just consumed, and advance
template <int D, int CAP, class ADDR_T, class PAY_T>
inline void delay_push(delay_line<D, CAP, ADDR_T, PAY_T>& dl, const event_list<CAP, ADDR_T, PAY_T>& now) {
    events_copy(dl.slot[dl.head], now);
    dl.head = dl.head + 1 == D ? 0 : dl.head + 1;
}

}  // namespace snn

#endif  // SNN_LAYER_H
