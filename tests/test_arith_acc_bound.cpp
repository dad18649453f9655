#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "models/arith/acc_bound.h"

namespace msq {
namespace {

TEST(ArithAccBound, DataTypeHandValues) {
  // K = 1, 8-bit unsigned x, 4-bit weight: |x * w| <= 255 * 8 = 2040 fits 12 signed bits.
  EXPECT_EQ(acc_bits_datatype(1, 8, 4, false), 12);
  EXPECT_EQ(acc_bits_datatype(2, 8, 4, false), 13);
  EXPECT_EQ(acc_bits_datatype(3, 8, 4, false), 14);  // log2(3) + 11 = 12.58
  EXPECT_EQ(acc_bits_datatype(4, 8, 4, false), 14);
  EXPECT_EQ(acc_bits_datatype(576, 8, 4, false), 22);   // 3x3x64: log2(576) = 9.17
  EXPECT_EQ(acc_bits_datatype(4608, 8, 8, false), 29);  // 3x3x512: 12.17 + 15
  // Signed 8-bit x, 4-bit weight: (-128) * (-8) = +1024 needs 12 bits; 11 bits stop at 1023.
  EXPECT_EQ(acc_bits_datatype(1, 8, 4, true), 12);
  EXPECT_EQ(acc_bits_datatype(3, 8, 4, true), 13);  // 3 * 1024 = 3072 <= 4095
  EXPECT_THROW(acc_bits_datatype(0, 8, 4, false), std::invalid_argument);
}

// Smallest signed width holding [lo, hi].
int width_for(int64_t lo, int64_t hi) {
  int b = 1;
  while (-(int64_t(1) << (b - 1)) > lo || (int64_t(1) << (b - 1)) - 1 < hi) ++b;
  return b;
}

// The bound must hold every sum of K products of in-range two's complement operands.
TEST(ArithAccBound, DataTypeBoundIsSufficientAndTightAtKEqualsOne) {
  for (bool sx : {false, true})
    for (int n = 2; n <= 10; ++n)
      for (int m = 2; m <= 8; ++m)
        for (int64_t K : {1, 2, 3, 4, 5, 7, 8, 9, 64, 100, 1024}) {
          const int64_t xlo = sx ? -(int64_t(1) << (n - 1)) : 0;
          const int64_t xhi = sx ? (int64_t(1) << (n - 1)) - 1 : (int64_t(1) << n) - 1;
          const int64_t wlo = -(int64_t(1) << (m - 1)), whi = (int64_t(1) << (m - 1)) - 1;
          const int64_t c[] = {xlo * wlo, xlo * whi, xhi * wlo, xhi * whi};
          const int64_t pmin = *std::min_element(c, c + 4), pmax = *std::max_element(c, c + 4);
          const int need = width_for(K * pmin, K * pmax);
          const int got = acc_bits_datatype(K, n, m, sx);
          EXPECT_GE(got, need) << "K " << K << " n " << n << " m " << m << " signed " << sx;
          if (K == 1) {
            EXPECT_EQ(got, need) << "n " << n << " m " << m << " signed " << sx;
          }
        }
}

TEST(ArithAccBound, L1HandValues) {
  const std::vector<int32_t> w{3, -2, 0, 7};  // L1 = 12; 12 * 255 = 3060 needs 13 bits
  EXPECT_EQ(acc_bits_l1(w.data(), 4, 8), 13);
  EXPECT_EQ(acc_bits_l1(w.data(), 4, 8, -1000), 13);  // 4060 <= 4095
  EXPECT_EQ(acc_bits_l1(w.data(), 4, 8, 1035), 13);   // 4095
  EXPECT_EQ(acc_bits_l1(w.data(), 4, 8, 1036), 14);   // 4096
  EXPECT_EQ(acc_bits_l1(w.data(), 4, 4), 9);          // 12 * 15 = 180 <= 255
  const std::vector<int32_t> big(4608, -(1 << 15));   // 8-bit SP2 extremes
  // 4608 * 2^15 * 255 = 38,503,710,720: above 2^35, below 2^36 - 1: 37 bits.
  EXPECT_EQ(acc_bits_l1(big.data(), 4608, 8), 37);
  const std::vector<int32_t> zero(10, 0);
  EXPECT_EQ(acc_bits_l1(zero.data(), 10, 8), 1);
}

}  // namespace
}  // namespace msq
