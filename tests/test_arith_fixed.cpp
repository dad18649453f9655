#include <gtest/gtest.h>

#include "models/arith/fixed_point.h"

namespace msq {
namespace {

TEST(ArithFixed, HandValues) {
  EXPECT_EQ(fixed_max(2), 1);
  EXPECT_EQ(fixed_max(4), 7);
  EXPECT_EQ(fixed_max(8), 127);
  EXPECT_EQ(fixed_max(16), 32767);
}

TEST(ArithFixed, SymmetricRangeEveryWidth) {
  for (int b = kFixedMinBits; b <= kFixedMaxBits; ++b) {
    const int64_t top = (int64_t(1) << (b - 1)) - 1;
    EXPECT_EQ(fixed_max(b), top) << b;
    EXPECT_TRUE(fixed_in_range(b, top));
    EXPECT_TRUE(fixed_in_range(b, -top));
    EXPECT_TRUE(fixed_in_range(b, 0));
    EXPECT_FALSE(fixed_in_range(b, top + 1));
    // The most negative two's complement code is not used.
    EXPECT_FALSE(fixed_in_range(b, -top - 1));
    EXPECT_FALSE(fixed_in_range(b, INT64_MIN));
    EXPECT_FALSE(fixed_in_range(b, INT64_MAX));
  }
}

}  // namespace
}  // namespace msq
