// hls_compat.h -- the vendor types snnc's HLS code uses, or a small stand-in for them.
//
// Under Vitis HLS (synthesis, or C simulation with the vendor headers on the include path) this
// includes <ap_int.h> and <hls_stream.h>. Elsewhere (plain g++, clang) it defines minimal
// compatible versions of ap_int<W>, ap_uint<W> and hls::stream<T> with the behaviour snnc's code
// relies on: a W-bit two's complement (or unsigned) integer that wraps on assignment, converts to
// long long, and a FIFO with read()/write()/empty()/size(). Define SNN_HLS_COMPAT_FALLBACK to
// force the stand-in even when vendor headers are present.
#ifndef SNN_HLS_COMPAT_H
#define SNN_HLS_COMPAT_H

#if !defined(SNN_HLS_COMPAT_FALLBACK) && (defined(__SYNTHESIS__) || \
    (defined(__has_include) && __has_include(<ap_int.h>) && __has_include(<hls_stream.h>)))
#include <ap_int.h>
#include <hls_stream.h>
#define SNN_HLS_VENDOR 1
#else
#define SNN_HLS_VENDOR 0

#include <deque>
#include <stdexcept>
#include <string>

namespace snn_compat {

// The low W bits of v, sign-extended (SIGNED) or zero-extended, computed without overflow.
template <int W, bool SIGNED>
constexpr long long wrap_bits(long long v) {
    static_assert(W >= 1 && W <= 64, "ap_int widths 1..64 are supported by the fallback");
    if (W == 64) return v;
    const unsigned long long mask = (W == 64) ? ~0ULL : ((1ULL << (W % 64)) - 1ULL);
    unsigned long long u = static_cast<unsigned long long>(v) & mask;
    if (SIGNED && W < 64 && ((u >> ((W - 1) % 64)) & 1ULL)) u |= ~mask;
    return static_cast<long long>(u);
}

template <int W, bool SIGNED>
class ap_base {
public:
    constexpr ap_base() : v_(0) {}
    constexpr ap_base(long long v) : v_(wrap_bits<W, SIGNED>(v)) {}          // NOLINT: implicit, as ap_int
    constexpr ap_base(int v) : v_(wrap_bits<W, SIGNED>(v)) {}                // NOLINT
    constexpr ap_base(unsigned v) : v_(wrap_bits<W, SIGNED>(static_cast<long long>(v))) {}  // NOLINT
    constexpr ap_base(long v) : v_(wrap_bits<W, SIGNED>(static_cast<long long>(v))) {}      // NOLINT
    constexpr ap_base(unsigned long v) : v_(wrap_bits<W, SIGNED>(static_cast<long long>(v))) {}  // NOLINT
    constexpr ap_base(unsigned long long v) : v_(wrap_bits<W, SIGNED>(static_cast<long long>(v))) {}  // NOLINT
    constexpr ap_base(bool v) : v_(v ? wrap_bits<W, SIGNED>(1) : 0) {}        // NOLINT
    constexpr operator long long() const { return v_; }                       // NOLINT
    long long to_int64() const { return v_; }
    int to_int() const { return static_cast<int>(v_); }
    ap_base& operator+=(long long x) { v_ = wrap_bits<W, SIGNED>(v_ + x); return *this; }
    ap_base& operator-=(long long x) { v_ = wrap_bits<W, SIGNED>(v_ - x); return *this; }
    ap_base& operator++() { v_ = wrap_bits<W, SIGNED>(v_ + 1); return *this; }

private:
    long long v_;
};

}  // namespace snn_compat

template <int W>
using ap_int = snn_compat::ap_base<W, true>;
template <int W>
using ap_uint = snn_compat::ap_base<W, false>;

namespace hls {

// A FIFO with the interface of hls::stream that snnc's code uses. One difference: read() of an
// empty stream throws std::runtime_error, where Vitis HLS's read blocks (in hardware and RTL
// co-simulation the design waits for data that, in a sequential C simulation, can never come).
template <class T>
class stream {
public:
    stream() {}
    explicit stream(const char* name) : name_(name) {}
    void write(const T& v) { q_.push_back(v); }
    T read() {
        if (q_.empty())
            throw std::runtime_error("hls::stream" + (name_.empty() ? "" : " '" + name_ + "'") +
                                     " read while empty (a Vitis HLS stream would block here "
                                     "until data arrives)");
        T v = q_.front();
        q_.pop_front();
        return v;
    }
    bool read_nb(T& v) {
        if (q_.empty()) return false;
        v = read();
        return true;
    }
    bool empty() const { return q_.empty(); }
    bool full() const { return false; }
    unsigned size() const { return static_cast<unsigned>(q_.size()); }

private:
    stream(const stream&);
    stream& operator=(const stream&);
    std::deque<T> q_;
    std::string name_;
};

}  // namespace hls

#endif

// HLS pragmas are written SNN_HLS(PIPELINE II=1): a _Pragma("HLS ...") for Vitis, and nothing for
// other compilers (which would warn about an unknown pragma). Macro arguments are substituted
// before the pragma is formed, so a pragma may use #defined values. SNN_LOOP(name) labels a loop
// for the HLS reports (a label nothing jumps to would be a warning elsewhere).
#define SNN_PRAGMA_TEXT(x) _Pragma(#x)
#if SNN_HLS_VENDOR
#define SNN_HLS(x) SNN_PRAGMA_TEXT(HLS x)
#define SNN_LOOP(name) name:
#else
#define SNN_HLS(x)
#define SNN_LOOP(name)
#endif

#endif  // SNN_HLS_COMPAT_H
