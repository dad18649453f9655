#include <gtest/gtest.h>

#include <cstdint>

#include "models/arith/requant.h"

namespace msq {
namespace {

TEST(ArithRequant, RoundsHalfUp) {
  EXPECT_EQ(requantize(100, 1, 1, 8), 50);
  EXPECT_EQ(requantize(101, 1, 1, 8), 51);    // 50.5 -> 51
  EXPECT_EQ(requantize(3, 1, 1, 8), 2);       // 1.5 -> 2
  EXPECT_EQ(requantize(1000, 3, 4, 8), 188);  // (3000 + 8) >> 4
  EXPECT_EQ(requantize(1001, 3, 4, 8), 188);  // (3003 + 8) >> 4 = 188.1875
  EXPECT_EQ(requantize(1003, 3, 4, 8), 188);  // 3009 + 8 = 3017, 188.56 -> floor
  EXPECT_EQ(requantize(1006, 3, 4, 8), 189);  // 3018 + 8 = 3026 -> 189.125
  EXPECT_EQ(requantize(24, 1, 4, 8), 2);      // 1.5 -> 2
  EXPECT_EQ(requantize(23, 1, 4, 8), 1);      // 1.4375 -> 1
}

TEST(ArithRequant, NegativeAccumulatorsAreClampedToZero) {
  EXPECT_EQ(requantize(-1, 1, 1, 8), 0);  // (-1 + 1) >> 1 = 0
  EXPECT_EQ(requantize(-3, 1, 1, 8), 0);  // -1 before the ReLU
  EXPECT_EQ(requantize(-1000000, 12345, 10, 8), 0);
  EXPECT_EQ(requantize(0, 12345, 10, 8), 0);
}

TEST(ArithRequant, ClampsAtTop) {
  EXPECT_EQ(requantize(100000, 1, 1, 8), 255);
  EXPECT_EQ(requantize(100000, 1, 1, 16), 50000);
  EXPECT_EQ(requantize(200000, 1, 1, 16), 65535);
  EXPECT_EQ(requantize(30, 1, 1, 4), 15);
  EXPECT_EQ(requantize(29, 1, 1, 4), 15);  // 14.5 -> 15
  EXPECT_EQ(requantize(27, 1, 1, 4), 14);
  EXPECT_EQ(requantize(510, 1, 1, 8), 255);
}

TEST(ArithRequant, ShiftExtremes) {
  // shift 62: (2^40 * 2^22 + 2^61) >> 62 = 1.5 -> 1 (floor of the half-up sum).
  EXPECT_EQ(requantize(int64_t(1) << 40, 1 << 22, 62, 8), 1);
  EXPECT_EQ(requantize((int64_t(1) << 40) - 1, 1 << 22, 62, 8), 1);  // just under 1.0 rounds up
  EXPECT_EQ(requantize(int64_t(1) << 39, 1 << 22, 62, 8), 1);        // 0.5 rounds up
  EXPECT_EQ(requantize((int64_t(1) << 39) - 1, 1 << 22, 62, 8), 0);
  EXPECT_EQ(requantize(7, 0, 1, 8), 0);  // M = 0 silences the row
}

TEST(ArithRequant, ProductWrapsInInt64) {
  // 2^40 * 2^23 = 2^63 wraps to INT64_MIN: the row reads as very negative, the ReLU gives 0.
  EXPECT_EQ(requantize(int64_t(1) << 40, 1 << 23, 1, 8), 0);
  // 2^41 * (2^23 + 1) = 2^64 + 2^41 wraps to 2^41; (2^41 + 2^32) >> 33 = 256.
  EXPECT_EQ(requantize(int64_t(1) << 41, (1 << 23) + 1, 33, 16), 256);
  EXPECT_EQ(requantize(int64_t(1) << 41, (1 << 23) + 1, 33, 8), 255);
  // -2^41 * 2^22 is exactly INT64_MIN: no wrap, the ReLU gives 0.
  EXPECT_EQ(requantize(-(int64_t(1) << 41), 1 << 22, 40, 16), 0);
  // -2^41 * (2^22 + 2^21) = -2^63 - 2^62 wraps to +2^62; (2^62 + 2^54) >> 55 = 128.
  EXPECT_EQ(requantize(-(int64_t(1) << 41), (1 << 22) + (1 << 21), 55, 8), 128);
}

}  // namespace
TEST(ArithRequant, ZeroPointAndClamp) {
  // (100 + 1) >> 1 = 50, plus the zero point 10 = 60, within [10, 255].
  EXPECT_EQ(requantize(100, 1, 1, 10, 10, 255), 60);
  // A negative accumulator below the zero point: (-40 + 1) >> 1 = -20 (arithmetic shift), + 128.
  EXPECT_EQ(requantize(-40, 1, 1, 128, 0, 255), 108);
  // The ReLU of a zero-point tensor clamps at the zero point, not at 0.
  EXPECT_EQ(requantize(-40, 1, 1, 10, 10, 255), 10);
  EXPECT_EQ(requantize(-40, 1, 1, 10, 0, 255), 0);
  // ReLU6 on a scale of 1/16: hi = z + 96.
  EXPECT_EQ(requantize(1000, 1, 1, 3, 3, 99), 99);
  EXPECT_EQ(requantize(190, 1, 1, 3, 3, 99), 98);
  // The zero point is added after the shift, so it is not scaled.
  EXPECT_EQ(requantize(0, 12345, 10, 7, 0, 255), 7);
  // The defaults (zero point 0, [0, 2^a - 1]) are the act_bits form, value for value.
  for (int64_t acc :
       std::initializer_list<int64_t>{-100000, -3, -1, 0, 1, 3, 24, 1000, 100000, int64_t(1) << 40})
    for (int shift : {1, 4, 20, 62})
      EXPECT_EQ(requantize(acc, 12345, shift, 0, 0, 255), requantize(acc, 12345, shift, 8))
          << acc << " " << shift;
}

}  // namespace msq
