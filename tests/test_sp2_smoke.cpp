#include <gtest/gtest.h>

#include "models/arith/sp2.h"

TEST(Sp2Smoke, FourBitLevels) {
  const msq::Sp2Format f(4);
  const std::vector<int32_t> want{-8, -6, -5, -4, -2, -1, 0, 1, 2, 4, 5, 6, 8};
  EXPECT_EQ(msq::sp2_levels(f), want);
}
