// The arithmetic of the bit-serial LUT PE (signed digits of an SP2 weight) and of activation
// packing in a DSP48 (two activations sharing one weight), against exact integer products.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>

#include "models/arith/fixed_point.h"
#include "models/arith/packed_dsp.h"
#include "models/arith/signed_digits.h"
#include "models/arith/sp2.h"

namespace msq {
namespace {

// Every level of every SP2 width times every activation of 8 bits: the digit-serial product is
// the plain product, with 0, 1 or 2 digits, each within the format's shifts.
TEST(ArithSignedDigits, EveryLevelTimesEveryActivationIsExact) {
  for (int b = 3; b <= 8; ++b) {
    const Sp2Format f(b);
    for (int32_t w : sp2_levels(f)) {
      const DigitList d = sp2_digits(f, sp2_encode(f, w));
      ASSERT_LE(d.n, 2);
      EXPECT_EQ(d.n == 0, w == 0) << b << " " << w;
      for (int i = 0; i < d.n; ++i) {
        EXPECT_LE(int(d.d[i].shift), f.F - 1) << b << " " << w;
        EXPECT_EQ(d.d[i].neg, w < 0);
      }
      for (uint32_t x = 0; x < 256; ++x)
        ASSERT_EQ(digit_serial_product(d, x), int64_t(w) * x) << "b " << b << " w " << w;
    }
  }
}

// Hand values for 4 bits (F = 3, terms 4, 2, 1): 5 = 1 + 4 is two digits (the e1 term first:
// code e1 = 3, e2 = 1, shifts 0 and 2); the
// largest level 8 has no single term and needs 4 + 4; -2 is one negative digit of shift 1.
TEST(ArithSignedDigits, FourBitHandValues) {
  const Sp2Format f(4);
  const DigitList five = sp2_digits(f, sp2_encode(f, 5));
  ASSERT_EQ(five.n, 2);
  EXPECT_EQ(five.d[0].shift, 0);
  EXPECT_EQ(five.d[1].shift, 2);
  const DigitList eight = sp2_digits(f, sp2_encode(f, 8));
  ASSERT_EQ(eight.n, 2);
  EXPECT_EQ(eight.d[0].shift, 2);
  EXPECT_EQ(eight.d[1].shift, 2);
  const DigitList m2 = sp2_digits(f, sp2_encode(f, -2));
  ASSERT_EQ(m2.n, 1);
  EXPECT_EQ(m2.d[0].shift, 1);
  EXPECT_TRUE(m2.d[0].neg);
  EXPECT_EQ(digit_step(digit_step(0, five.d[0], 255), five.d[1], 255), 5 * 255);
}

// The PE's digit word is a sign and a 3-bit shift: SP2 rows up to 7 bits (F = 7, shifts 0..6);
// 8 bits (F = 15) need shifts up to 14.
TEST(ArithSignedDigits, DigitWordLimitsTheWidths) {
  for (int b = 3; b <= 7; ++b) EXPECT_TRUE(bitserial_sp2_bits_ok(b)) << b;
  EXPECT_FALSE(bitserial_sp2_bits_ok(8));
  EXPECT_EQ(sp2_max_digit_shift(8), 14);
  EXPECT_EQ(sp2_max_digit_shift(7), 6);
}

// Hand-computed activation packing. DSP48E1 (25-bit signed A): 255 * (2^D + 1) <= 2^24 - 1 gives
// D = 16; 4-bit weights: the low lane holds (2^15 - 1) / (7 * 255) = 18 worst products; 8-bit
// weights: 32767 / (127 * 255) = 1. DSP48E2 (27-bit A): D = 18, chains 73 and 4.
TEST(ArithActPack, HandValues) {
  const DspGeometry e1 = dsp_geometry(DspKind::DSP48E1), e2 = dsp_geometry(DspKind::DSP48E2);
  EXPECT_EQ(max_act_lane_offset(e1, 8), 16);
  EXPECT_EQ(act_packed_max_chain(e1, ActPackLayout{8, 4, 16}), 18);
  EXPECT_EQ(act_packed_max_chain(e1, ActPackLayout{8, 8, 16}), 1);
  EXPECT_EQ(max_act_lane_offset(e2, 8), 18);
  EXPECT_EQ(act_packed_max_chain(e2, ActPackLayout{8, 4, 18}), 73);
  EXPECT_EQ(act_packed_max_chain(e2, ActPackLayout{8, 8, 18}), 4);
  // One bit more of D and two maximal activations leave the signed A port.
  EXPECT_EQ(act_packed_max_chain(e1, ActPackLayout{8, 4, 17}), 0);
  EXPECT_GT(int64_t(255) * ((int64_t(1) << 17) + 1), (int64_t(1) << 24) - 1);
  // Two 16-bit activations cannot share the A port with any useful gap.
  EXPECT_EQ(act_packed_max_chain(e1, ActPackLayout{16, 4, max_act_lane_offset(e1, 16)}), 0);
}

struct Lanes {
  int64_t lo = 0, hi = 0;
};

// n identical products through the packed accumulator; whether both lanes unpack exactly.
bool act_lanes_exact(const DspGeometry& g, int D, uint32_t x_hi, uint32_t x_lo, int32_t w,
                     int64_t n) {
  PackedAccumulator p(g, D);
  Lanes want;
  for (int64_t i = 0; i < n; ++i) {
    p.mac_acts(x_hi, x_lo, w);
    want.hi += int64_t(w) * x_hi;
    want.lo += int64_t(w) * x_lo;
  }
  return p.lo() == want.lo && p.hi() == want.hi;
}

// At the chain length the worst cases are exact: the most negative weight and the largest one
// with the largest activation in both lanes, and in either lane alone; one product past the
// chain, the largest positive low-lane sum leaves its D - 1 bits and the lanes are wrong.
TEST(ArithActPack, ChainIsExactAtTheLimitAndBreaksPastIt) {
  for (DspKind kind : {DspKind::DSP48E1, DspKind::DSP48E2})
    for (int a : {4, 8})
      for (int b = 2; b <= 8; ++b) {
        const DspGeometry g = dsp_geometry(kind);
        const int D = max_act_lane_offset(g, a);
        const int64_t chain = act_packed_max_chain(g, ActPackLayout{a, b, D});
        ASSERT_GE(chain, 1) << a << " " << b;
        const uint32_t xm = (1u << a) - 1;
        const int32_t wm = fixed_max(b);
        for (int32_t w : {-wm, wm})
          for (auto [xh, xl] : {std::pair<uint32_t, uint32_t>{xm, xm}, {xm, 0}, {0, xm}})
            EXPECT_TRUE(act_lanes_exact(g, D, xh, xl, w, chain))
                << "kind " << int(kind) << " a " << a << " b " << b << " w " << w;
        EXPECT_FALSE(act_lanes_exact(g, D, xm, xm, wm, chain + 1))
            << "kind " << int(kind) << " a " << a << " b " << b << " chain " << chain;
      }
}

// Random weights and activations, random chains up to the limit, a lone low lane (odd column
// count: x_hi = 0): both lanes always exact.
TEST(ArithActPack, RandomChainsAreExact) {
  std::mt19937 rng(7);
  for (DspKind kind : {DspKind::DSP48E1, DspKind::DSP48E2})
    for (int b = 2; b <= 8; ++b) {
      const DspGeometry g = dsp_geometry(kind);
      const int D = max_act_lane_offset(g, 8);
      const int64_t chain = act_packed_max_chain(g, ActPackLayout{8, b, D});
      for (int trial = 0; trial < 200; ++trial) {
        const int64_t n = std::uniform_int_distribution<int64_t>(1, chain)(rng);
        const bool lone = trial % 5 == 0;
        PackedAccumulator p(g, D);
        Lanes want;
        for (int64_t i = 0; i < n; ++i) {
          const int32_t w =
              std::uniform_int_distribution<int32_t>(-fixed_max(b), fixed_max(b))(rng);
          const uint32_t xh = lone ? 0 : std::uniform_int_distribution<uint32_t>(0, 255)(rng);
          const uint32_t xl = std::uniform_int_distribution<uint32_t>(0, 255)(rng);
          p.mac_acts(xh, xl, w);
          want.hi += int64_t(w) * xh;
          want.lo += int64_t(w) * xl;
        }
        ASSERT_EQ(p.lo(), want.lo) << b << " n " << n;
        ASSERT_EQ(p.hi(), want.hi) << b << " n " << n;
      }
    }
}

}  // namespace
}  // namespace msq
