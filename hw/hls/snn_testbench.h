// snn_testbench.h -- the C simulation testbench of a generated snnc HLS project.
//
//   tb_snn_top EVENTS_IN OUT_DIR
//
// EVENTS_IN (binary, little-endian int32): a header {0x454E4E53 ("SNNE"), 1, samples, steps},
// then for every sample and step the step's input events as records {last, payload, address},
// each step closed by a token record {1, 0, 0}. A record whose payload or address does not fit
// the field of snn_in_event_t (it would wrap), a `last` other than 0 or 1, or a file that ends
// before a step's token is an error naming the sample and step; an address past the inputs that
// fits the field is passed on (snn_top drops and counts it).
// OUT_DIR receives
//   out_events.bin  int32 records {sample, step, last, payload, address}: what snn_top wrote on
//                   its output stream (spikes of the output layers, then a token, every step);
//   spikes.bin      uint8 [samples][steps][SNN_PROBE_SPIKES]: every layer's spikes of every step;
//   states.bin      int64 [samples][SNN_PROBE_STATES]: every neuron's state after the last step;
//   counters.bin    int64 [SNN_PROBE_COUNTERS]: saturation counters over all samples, then the
//                   input events dropped for an address past the inputs, then those dropped over
//                   an input's per-step capacity;
//   payloads.bin    int64 [samples][steps][SNN_PROBE_PAYLOADS]: the event heights of every graded
//                   (ASN) layer after every step (0 where a neuron did not spike);
//   membrane.bin    int64 [samples][steps][SNN_PROBE_MEMBRANE]: the output layers' membranes
//                   after every step (what `membrane` readouts sum and `count` ties are broken by).
// The first step of every sample calls snn_top with clear = true. Exit status 0 on success, 1 on
// a malformed input file, an error of snn_top in C simulation (an exception: a step without its
// end-of-step token) or an I/O error (with a message on stderr).
// Needs snn_top.h (the generated top) included before it.
#ifndef SNN_TESTBENCH_H
#define SNN_TESTBENCH_H

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

namespace snn {

const int EVENTS_MAGIC = 0x454E4E53;

inline bool read_i32(std::FILE* f, int* v, int n) {
    return std::fread(v, sizeof(int), static_cast<size_t>(n), f) == static_cast<size_t>(n);
}

inline int testbench_fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "tb_snn_top: %s%s\n", what, detail.c_str());
    return 1;
}

inline std::string at_step(int sample, int step) {
    return "sample " + std::to_string(sample) + ", step " + std::to_string(step) + ": ";
}

// the step's records up to and including its token into `in`; "" or what is wrong with the file
inline std::string read_step(std::FILE* fin, hls::stream<snn_in_event_t>& in) {
    for (;;) {
        int rec[3];
        if (!read_i32(fin, rec, 3))
            return "the events file ends before the step's end-of-step token (a record "
                   "{1, 0, 0}); every step must end with one";
        if (rec[0] != 0 && rec[0] != 1)
            return "a record has last = " + std::to_string(rec[0]) + " (0: an event, 1: the "
                   "end-of-step token)";
        snn_in_event_t e;
        e.last = rec[0];
        e.payload = rec[1];
        e.address = rec[2];
        // a 32-bit unsigned field's record is its bit pattern (int32: 2^31 and more negative)
        const bool as_bits = rec[1] < 0 && e.payload.to_int64() >= (1LL << 31) &&
                             e.payload.to_int64() == static_cast<long long>(
                                 static_cast<unsigned int>(rec[1]));
        if (e.payload.to_int64() != rec[1] && !as_bits)
            return "payload " + std::to_string(rec[1]) + " does not fit the input event's "
                   "payload field (it would wrap to " + std::to_string(e.payload.to_int64()) + ")";
        if (e.address.to_int64() != rec[2])
            return "address " + std::to_string(rec[2]) + " does not fit the input event's "
                   "address field (it would wrap to " + std::to_string(e.address.to_int64()) + ")";
        in.write(e);
        if (rec[0]) return "";
    }
}

inline int testbench_main(int argc, char** argv) {
    if (argc != 3) return testbench_fail("usage: tb_snn_top EVENTS_IN OUT_DIR", "");
    std::FILE* fin = std::fopen(argv[1], "rb");
    if (!fin) return testbench_fail("cannot open ", argv[1]);
    int header[4];
    if (!read_i32(fin, header, 4) || header[0] != EVENTS_MAGIC || header[1] != 1) {
        std::fclose(fin);
        return testbench_fail("not an snnc events file: ", argv[1]);
    }
    const int samples = header[2];
    const int steps = header[3];
    if (samples < 1 || steps < 1) {         // -1 samples ran nothing and exited 0
        std::fclose(fin);
        return testbench_fail(argv[1], ": the header gives " + std::to_string(samples) +
                                           " samples of " + std::to_string(steps) +
                                           " steps; both must be at least 1");
    }
    const std::string dir(argv[2]);
    std::FILE* fev = std::fopen((dir + "/out_events.bin").c_str(), "wb");
    std::FILE* fspk = std::fopen((dir + "/spikes.bin").c_str(), "wb");
    std::FILE* fst = std::fopen((dir + "/states.bin").c_str(), "wb");
    std::FILE* fcnt = std::fopen((dir + "/counters.bin").c_str(), "wb");
    std::FILE* fpay = std::fopen((dir + "/payloads.bin").c_str(), "wb");
    std::FILE* fmem = std::fopen((dir + "/membrane.bin").c_str(), "wb");
    int status = 0;
    if (!fev || !fspk || !fst || !fcnt || !fpay || !fmem)
        status = testbench_fail("cannot write into ", dir);
    std::vector<unsigned char> spikes(SNN_PROBE_SPIKES);
    std::vector<long long> states(SNN_PROBE_STATES);
    std::vector<long long> counters(SNN_PROBE_COUNTERS);
    std::vector<long long> payloads(SNN_PROBE_PAYLOADS);
    std::vector<long long> membrane(SNN_PROBE_MEMBRANE);
    for (int b = 0; b < samples && status == 0; b++) {
        for (int t = 0; t < steps && status == 0; t++) {
            hls::stream<snn_in_event_t> in_events("in_events");
            hls::stream<snn_out_event_t> out_events("out_events");
            const std::string bad = read_step(fin, in_events);
            if (!bad.empty()) {
                status = testbench_fail(argv[1], ": " + at_step(b, t) + bad);
                break;
            }
            try {
                snn_top(in_events, out_events, t == 0);
            } catch (const std::exception& ex) {
                status = testbench_fail(at_step(b, t).c_str(), ex.what());
                break;
            }
            while (!out_events.empty()) {
                const snn_out_event_t o = out_events.read();
                const int rec[5] = {b, t, static_cast<int>(o.last.to_int64()),
                                    // the low 32 bits: an ap_uint<32> height as its bit
                                    // pattern (parse_outputs reads it back unsigned)
                                    static_cast<int>(static_cast<unsigned int>(
                                        o.payload.to_int64() & 0xFFFFFFFFLL)),
                                    static_cast<int>(o.address.to_int64())};
                std::fwrite(rec, sizeof(int), 5, fev);
            }
            snn_probe_spikes(spikes.data());
            std::fwrite(spikes.data(), 1, spikes.size(), fspk);
            snn_probe_payloads(payloads.data());
            std::fwrite(payloads.data(), sizeof(long long), payloads.size(), fpay);
            snn_probe_membrane(membrane.data());
            std::fwrite(membrane.data(), sizeof(long long), membrane.size(), fmem);
        }
        if (status) break;
        snn_probe_states(states.data());
        std::fwrite(states.data(), sizeof(long long), states.size(), fst);
    }
    int extra;
    if (status == 0 && read_i32(fin, &extra, 1))      // records past the header's steps were ignored
        status = testbench_fail(argv[1], ": data after the last step of the last sample (the "
                                         "header gives " + std::to_string(samples) + " samples of " +
                                         std::to_string(steps) + " steps)");
    if (status == 0) {
        snn_probe_counters(counters.data());
        std::fwrite(counters.data(), sizeof(long long), counters.size(), fcnt);
    }
    std::fclose(fin);
    std::FILE* outs[6] = {fev, fspk, fst, fcnt, fpay, fmem};
    for (int k = 0; k < 6; k++) {
        if (outs[k] && std::fclose(outs[k]) != 0 && status == 0)
            status = testbench_fail("cannot write into ", dir);
    }
    if (status == 0) std::printf("tb_snn_top: %d samples x %d steps\n", samples, steps);
    return status;
}

}  // namespace snn

#endif  // SNN_TESTBENCH_H
