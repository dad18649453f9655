#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

#include "models/arith/sp2.h"

namespace msq {
namespace {

// Field widths written out by hand from docs/arithmetic.md rather than recomputed, so a wrong
// formula in Sp2Format cannot agree with itself.
struct Widths {
  int bits, m1, m2, F;
};
constexpr Widths kWidths[] = {{3, 1, 1, 1}, {4, 2, 1, 3}, {5, 2, 2, 3},
                              {6, 3, 2, 7}, {7, 3, 3, 7}, {8, 4, 3, 15}};

// The level set straight from the definition w = (-1)^s (t(e1) + t(e2)).
std::set<int32_t> definition_levels(const Widths& wd) {
  auto t = [&](int e) { return e == 0 ? 0 : (1 << (wd.F - e)); };
  std::set<int32_t> out;
  for (int e1 = 0; e1 < (1 << wd.m1); ++e1)
    for (int e2 = 0; e2 < (1 << wd.m2); ++e2) {
      out.insert(t(e1) + t(e2));
      out.insert(-(t(e1) + t(e2)));
    }
  return out;
}

TEST(ArithSp2, FieldWidthsPerDomain) {
  for (const Widths& wd : kWidths) {
    const Sp2Format f(wd.bits);
    EXPECT_EQ(f.m1, wd.m1) << wd.bits;
    EXPECT_EQ(f.m2, wd.m2) << wd.bits;
    EXPECT_EQ(f.F, wd.F) << wd.bits;
    EXPECT_EQ(1 + f.m1 + f.m2, wd.bits);
    EXPECT_EQ(f.max_level(), 1 << wd.F);
  }
}

TEST(ArithSp2, RejectsWidthsOutside3To8) {
  EXPECT_THROW(Sp2Format(2), std::invalid_argument);
  EXPECT_THROW(Sp2Format(9), std::invalid_argument);
  EXPECT_THROW(Sp2Format(0), std::invalid_argument);
}

TEST(ArithSp2, FourBitHasThirteenLevels) {
  const std::vector<int32_t> want{-8, -6, -5, -4, -2, -1, 0, 1, 2, 4, 5, 6, 8};
  EXPECT_EQ(sp2_levels(Sp2Format(4)), want);
}

TEST(ArithSp2, ThreeAndFiveBitLevels) {
  EXPECT_EQ(sp2_levels(Sp2Format(3)), (std::vector<int32_t>{-2, -1, 0, 1, 2}));
  EXPECT_EQ(sp2_levels(Sp2Format(5)),
            (std::vector<int32_t>{-8, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 8}));
}

TEST(ArithSp2, LevelsMatchDefinition) {
  for (const Widths& wd : kWidths) {
    const auto want = definition_levels(wd);
    const auto got = sp2_levels(Sp2Format(wd.bits));
    EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
    EXPECT_EQ(std::set<int32_t>(got.begin(), got.end()), want) << wd.bits;
    EXPECT_EQ(got.size(), want.size()) << "duplicates in sp2_levels, bits " << wd.bits;
  }
}

TEST(ArithSp2, EncodeDecodeRoundTripAndCanonicalCodes) {
  for (const Widths& wd : kWidths) {
    const Sp2Format f(wd.bits);
    for (int32_t w : sp2_levels(f)) {
      const Sp2Code c = sp2_encode(f, w);
      EXPECT_EQ(sp2_decode(f, c), w) << "bits " << wd.bits;
      EXPECT_LE(c.e1, f.e1_max());
      EXPECT_LE(c.e2, f.e2_max());
      if (w == 0) {
        EXPECT_EQ(c.s, 0);
        EXPECT_EQ(c.e1, 0);
        EXPECT_EQ(c.e2, 0);
      }
      // A power of two needs one term: e2 stays 0.
      const int32_t mag = std::abs(w);
      if (mag != 0 && (mag & (mag - 1)) == 0 && mag != f.max_level()) {
        EXPECT_EQ(c.e2, 0) << w;
      }
    }
  }
}

TEST(ArithSp2, PackUnpackRoundTripEveryWord) {
  for (const Widths& wd : kWidths) {
    const Sp2Format f(wd.bits);
    for (uint32_t word = 0; word < (1u << wd.bits); ++word) {
      const Sp2Code c = sp2_unpack(f, word);
      EXPECT_EQ(sp2_pack(f, c), word);
      // s | e1 | e2 from the top bit down.
      EXPECT_EQ(c.s, word >> (wd.bits - 1));
      EXPECT_EQ(c.e2, word & ((1u << wd.m2) - 1));
      EXPECT_EQ(c.e1, (word >> wd.m2) & ((1u << wd.m1) - 1));
    }
    for (int32_t w : sp2_levels(f)) {
      const uint32_t word = sp2_pack(f, sp2_encode(f, w));
      EXPECT_LT(word, 1u << wd.bits);
      EXPECT_EQ(sp2_decode(f, sp2_unpack(f, word)), w);
    }
  }
}

TEST(ArithSp2, IsLevelExactlyOnLevels) {
  for (const Widths& wd : kWidths) {
    const Sp2Format f(wd.bits);
    const auto levels = definition_levels(wd);
    const int32_t lim = f.max_level() + 3;
    for (int32_t w = -lim; w <= lim; ++w)
      EXPECT_EQ(sp2_is_level(f, w), levels.count(w) == 1) << "bits " << wd.bits << " w " << w;
    EXPECT_FALSE(sp2_is_level(f, INT32_MIN));
    EXPECT_FALSE(sp2_is_level(f, INT32_MAX));
    EXPECT_THROW(sp2_encode(f, f.max_level() + 1), std::invalid_argument);
  }
}

TEST(ArithSp2, ShiftAddEqualsProductExhaustive) {
  for (int bits : {4, 8}) {
    const Sp2Format f(bits);
    for (int s = 0; s < 2; ++s)
      for (int e1 = 0; e1 <= f.e1_max(); ++e1)
        for (int e2 = 0; e2 <= f.e2_max(); ++e2) {
          const Sp2Code c{uint8_t(s), uint8_t(e1), uint8_t(e2)};
          const int64_t w = sp2_decode(f, c);
          for (uint32_t x = 0; x < 256; ++x)
            ASSERT_EQ(sp2_shift_add(f, c, x), int64_t(x) * w)
                << "bits " << bits << " s " << s << " e1 " << e1 << " e2 " << e2 << " x " << x;
        }
  }
}

}  // namespace
}  // namespace msq
