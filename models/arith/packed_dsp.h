// Two signed low-bit products sharing one unsigned activation in one DSP48 multiplier
// (docs/arithmetic.md): A = (w_hi << D) + w_lo, P += A * x; the low lane is the sign-extended low
// D bits of P, the high lane (P - lo) >> D. Exact while the low lane's running sum fits D bits.
#pragma once

#include <cstdint>

#include "models/config.h"

namespace msq {

struct DspGeometry {
  int a_bits;  // multiplier input carrying the packed weights (signed)
  int b_bits;  // multiplier input carrying the activation (signed port)
  int p_bits;  // accumulator
};

// DSP48E1: 25x18 multiplier, 48-bit P. DSP48E2: 27x18, 48-bit P.
inline DspGeometry dsp_geometry(DspKind k) {
  return k == DspKind::DSP48E1 ? DspGeometry{25, 18, 48} : DspGeometry{27, 18, 48};
}

struct PackedLayout {
  int w_bits = 4;  // signed symmetric weights of both lanes
  int x_bits = 8;  // unsigned activation
  int D = 0;       // lane offset
};

// Whether the two lanes fit the multiplier and P at all (a chain of at least one product).
bool packing_feasible(const DspGeometry& g, const PackedLayout& l);
// The largest D the A port allows for w_bits weights (the longest chains); 0 when none fits.
int max_lane_offset(const DspGeometry& g, int w_bits);
// The longest number of worst-case products the packed accumulator can take before a lane is
// corrupted: both the low lane's sum within D signed bits and P within p_bits. 0 when infeasible.
int64_t packed_max_chain(const DspGeometry& g, const PackedLayout& l);

// Activation packing: two unsigned x_bits activations (two output columns) share one signed
// w_bits weight, A = (x_hi << D) + x_lo on the A port, the weight on the B port, P += A * w. The
// lanes unpack as above: lo = sum(w * x_lo), hi = sum(w * x_hi).
struct ActPackLayout {
  int x_bits = 8;  // unsigned activations, both lanes
  int w_bits = 4;  // signed symmetric weight
  int D = 0;       // lane offset
};
// The largest D the A port allows for two x_bits activations (the longest chains): the largest
// A, (2^x - 1) * (2^D + 1), must fit the signed a_bits port. 0 when none fits.
int max_act_lane_offset(const DspGeometry& g, int x_bits);
// The longest number of worst-case products before a lane is corrupted (the low lane's sum within
// D signed bits, P within p_bits); 0 when the layout does not fit the ports at all.
int64_t act_packed_max_chain(const DspGeometry& g, const ActPackLayout& l);

// The packed accumulator as the DSP holds it: P wraps at p_bits like the hardware register.
class PackedAccumulator {
 public:
  PackedAccumulator(const DspGeometry& g, int D) : p_bits_(g.p_bits), D_(D) {}
  void mac(int32_t w_hi, int32_t w_lo, uint32_t x) {
    const int64_t a = int64_t(uint64_t(int64_t(w_hi)) << D_) + w_lo;
    p_ = wrap(p_ + a * int64_t(x));
  }
  // Activation packing: the A port carries two activations, B the shared weight.
  void mac_acts(uint32_t x_hi, uint32_t x_lo, int32_t w) {
    const int64_t a = int64_t(uint64_t(x_hi) << D_) + int64_t(x_lo);
    p_ = wrap(p_ + a * int64_t(w));
  }
  int64_t p() const { return p_; }
  int64_t lo() const {
    const uint64_t mask = (uint64_t(1) << D_) - 1;
    const uint64_t bits = uint64_t(p_) & mask;
    const uint64_t sign = uint64_t(1) << (D_ - 1);
    return int64_t(bits ^ sign) - int64_t(sign);
  }
  int64_t hi() const { return (p_ - lo()) >> D_; }
  void clear() { p_ = 0; }

 private:
  int64_t wrap(int64_t v) const {
    const int sh = 64 - p_bits_;
    return int64_t(uint64_t(v) << sh) >> sh;
  }
  int p_bits_, D_;
  int64_t p_ = 0;
};

}  // namespace msq
