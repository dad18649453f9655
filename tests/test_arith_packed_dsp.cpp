#include <gtest/gtest.h>

#include <cstdint>
#include <random>

#include "models/arith/fixed_point.h"
#include "models/arith/packed_dsp.h"

namespace msq {
namespace {

constexpr int kXBits = 8;
constexpr uint32_t kXMax = (1u << kXBits) - 1;

struct Lanes {
  int64_t lo = 0, hi = 0;  // the exact lane sums
};

// Runs `n` identical products through the packed accumulator and returns whether both lanes
// unpack to their exact sums.
bool lanes_exact(const DspGeometry& g, int D, int32_t w_hi, int32_t w_lo, uint32_t x, int64_t n) {
  PackedAccumulator acc(g, D);
  Lanes want;
  for (int64_t i = 0; i < n; ++i) {
    acc.mac(w_hi, w_lo, x);
    want.hi += int64_t(w_hi) * x;
    want.lo += int64_t(w_lo) * x;
  }
  return acc.lo() == want.lo && acc.hi() == want.hi;
}

struct Case {
  DspKind kind;
  int w_bits;
};

std::vector<Case> all_cases() {
  std::vector<Case> out;
  for (DspKind k : {DspKind::DSP48E1, DspKind::DSP48E2})
    for (int w = 2; w <= 6; ++w) out.push_back({k, w});
  return out;
}

TEST(ArithPackedDsp, Geometry) {
  const DspGeometry e1 = dsp_geometry(DspKind::DSP48E1), e2 = dsp_geometry(DspKind::DSP48E2);
  EXPECT_EQ(e1.a_bits, 25);
  EXPECT_EQ(e1.b_bits, 18);
  EXPECT_EQ(e1.p_bits, 48);
  EXPECT_EQ(e2.a_bits, 27);
  EXPECT_EQ(e2.b_bits, 18);
  EXPECT_EQ(e2.p_bits, 48);
}

// Hand-computed: 4-bit on DSP48E1: 7 * (2^D + 1) <= 2^24 - 1 gives D = 21; the low lane holds
// (2^20 - 1) / (7 * 255) = 587 worst products. DSP48E2: D = 23, (2^22 - 1) / 1785 = 2349.
TEST(ArithPackedDsp, FourBitHandValues) {
  const DspGeometry e1 = dsp_geometry(DspKind::DSP48E1), e2 = dsp_geometry(DspKind::DSP48E2);
  EXPECT_EQ(max_lane_offset(e1, 4), 21);
  EXPECT_EQ(packed_max_chain(e1, PackedLayout{4, 8, 21}), 587);
  EXPECT_EQ(max_lane_offset(e2, 4), 23);
  EXPECT_EQ(packed_max_chain(e2, PackedLayout{4, 8, 23}), 2349);
}

// 8-bit weights on a DSP48E1: 127 * (2^D + 1) <= 2^24 - 1 gives D = 17, and the low lane holds
// (2^16 - 1) / (127 * 255) = 2 products: the chain is too short to be worth packing, so 8-bit
// rows run unpacked.
TEST(ArithPackedDsp, EightBitOnDsp48E1HasChainOfTwo) {
  const DspGeometry g = dsp_geometry(DspKind::DSP48E1);
  const int D = max_lane_offset(g, 8);
  EXPECT_EQ(D, 17);
  EXPECT_EQ(packed_max_chain(g, PackedLayout{8, kXBits, D}), 2);
  EXPECT_TRUE(lanes_exact(g, D, 127, 127, kXMax, 2));
  EXPECT_FALSE(lanes_exact(g, D, 127, 127, kXMax, 3));
}

TEST(ArithPackedDsp, Infeasible) {
  const DspGeometry g = dsp_geometry(DspKind::DSP48E1);
  EXPECT_EQ(packed_max_chain(g, PackedLayout{4, 18, 10}), 0);  // x does not fit the signed B port
  EXPECT_EQ(packed_max_chain(g, PackedLayout{4, 8, 22}), 0);   // A overflows the 25-bit port
  EXPECT_EQ(packed_max_chain(g, PackedLayout{4, 8, 11}), 0);   // one product already fills D bits
  EXPECT_FALSE(packing_feasible(g, PackedLayout{4, 8, 11}));
  EXPECT_TRUE(packing_feasible(g, PackedLayout{4, 8, 12}));
}

TEST(ArithPackedDsp, WorstCaseExactAtChainAndCorruptedOneBeyond) {
  for (const Case& c : all_cases()) {
    const DspGeometry g = dsp_geometry(c.kind);
    const int D = max_lane_offset(g, c.w_bits);
    ASSERT_GT(D, 0);
    const int64_t L = packed_max_chain(g, PackedLayout{c.w_bits, kXBits, D});
    ASSERT_GE(L, 1) << "w_bits " << c.w_bits;
    const int32_t w = fixed_max(c.w_bits);
    SCOPED_TRACE(testing::Message()
                 << "kind " << int(c.kind) << " w_bits " << c.w_bits << " D " << D << " L " << L);
    // Same signs push both the low lane and P to their limits; mixed signs cancel in P.
    EXPECT_TRUE(lanes_exact(g, D, w, w, kXMax, L));
    EXPECT_TRUE(lanes_exact(g, D, -w, -w, kXMax, L));
    EXPECT_TRUE(lanes_exact(g, D, w, -w, kXMax, L));
    EXPECT_TRUE(lanes_exact(g, D, -w, w, kXMax, L));
    EXPECT_TRUE(lanes_exact(g, D, 0, w, kXMax, L));
    EXPECT_TRUE(lanes_exact(g, D, w, 0, kXMax, L));
    // The bound is tight: one more worst product breaks a lane.
    EXPECT_FALSE(lanes_exact(g, D, w, w, kXMax, L + 1));
    EXPECT_FALSE(lanes_exact(g, D, -w, -w, kXMax, L + 1));
  }
}

TEST(ArithPackedDsp, RandomOperandsWithinChainAlwaysExact) {
  std::mt19937_64 rng(12345);
  for (const Case& c : all_cases()) {
    const DspGeometry g = dsp_geometry(c.kind);
    const int Dmax = max_lane_offset(g, c.w_bits);
    const int32_t w = fixed_max(c.w_bits);
    std::uniform_int_distribution<int32_t> wd(-w, w);
    std::uniform_int_distribution<uint32_t> xd(0, kXMax);
    // The largest offset and a few smaller feasible ones.
    for (int D : {Dmax, Dmax - 1, Dmax - 3}) {
      const int64_t L = packed_max_chain(g, PackedLayout{c.w_bits, kXBits, D});
      if (L < 1) continue;
      for (int trial = 0; trial < 20; ++trial) {
        PackedAccumulator acc(g, D);
        Lanes want;
        const int64_t n = L;
        for (int64_t i = 0; i < n; ++i) {
          const int32_t hi = wd(rng), lo = wd(rng);
          const uint32_t x = xd(rng);
          acc.mac(hi, lo, x);
          want.hi += int64_t(hi) * x;
          want.lo += int64_t(lo) * x;
        }
        ASSERT_EQ(acc.lo(), want.lo) << "w_bits " << c.w_bits << " D " << D;
        ASSERT_EQ(acc.hi(), want.hi) << "w_bits " << c.w_bits << " D " << D;
        acc.clear();
        EXPECT_EQ(acc.p(), 0);
      }
    }
  }
}

}  // namespace
}  // namespace msq
