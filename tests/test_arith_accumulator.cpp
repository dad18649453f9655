#include <gtest/gtest.h>

#include <cstdint>
#include <random>

#include "models/arith/accumulator.h"

namespace msq {
namespace {

using i128 = __int128;

// Independent reference: exact sums in 128 bits, reduced modulo 2^bits or clamped.
struct RefAcc {
  int bits;
  Overflow ov;
  i128 acc = 0;
  uint64_t overflows = 0;
  i128 lo() const { return -(i128(1) << (bits - 1)); }
  i128 hi() const { return (i128(1) << (bits - 1)) - 1; }
  void add(int64_t v) {
    i128 s = acc + v;
    if (s < lo() || s > hi()) {
      ++overflows;
      if (ov == Overflow::Saturate) {
        s = s < lo() ? lo() : hi();
      } else {
        const i128 mod = i128(1) << bits;
        s %= mod;  // C++ remainder keeps the dividend's sign
        if (s < 0) s += mod;
        if (s > hi()) s -= mod;
      }
    }
    acc = s;
  }
};

TEST(ArithAccumulator, SpecRange) {
  EXPECT_EQ((AccSpec{8, Overflow::Wrap}).min(), -128);
  EXPECT_EQ((AccSpec{8, Overflow::Wrap}).max(), 127);
  EXPECT_EQ((AccSpec{32, Overflow::Wrap}).max(), INT32_MAX);
  EXPECT_EQ((AccSpec{64, Overflow::Wrap}).min(), INT64_MIN);
}

TEST(ArithAccumulator, HandCases) {
  uint64_t n = 0;
  const AccSpec w8{8, Overflow::Wrap}, s8{8, Overflow::Saturate};
  EXPECT_EQ(acc_add(w8, 127, 1, n), -128);
  EXPECT_EQ(acc_add(w8, -128, -1, n), 127);
  EXPECT_EQ(acc_add(w8, 100, 300, n), 400 - 512);  // 400 mod 256 = 144, read as signed
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(acc_add(s8, 127, 1, n), 127);
  EXPECT_EQ(acc_add(s8, -100, -1000, n), -128);
  EXPECT_EQ(acc_add(s8, 100, 27, n), 127);  // exactly the top: no overflow
  EXPECT_EQ(n, 5u);
  const AccSpec w64{64, Overflow::Wrap};
  EXPECT_EQ(acc_add(w64, INT64_MAX, 1, n), INT64_MIN);
  EXPECT_EQ(acc_add(AccSpec{64, Overflow::Saturate}, INT64_MIN, -1, n), INT64_MIN);
  EXPECT_EQ(n, 7u);
  EXPECT_EQ(acc_load(w8, 200, n), 200 - 256);
  EXPECT_EQ(n, 8u);
}

TEST(ArithAccumulator, RandomSequencesMatchInt128Reference) {
  std::mt19937_64 rng(7);
  for (int bits : {8, 12, 16, 24, 32, 48, 64}) {
    for (Overflow ov : {Overflow::Wrap, Overflow::Saturate}) {
      const AccSpec spec{bits, ov};
      // Addends from tiny to the full int64 range so that both rare and frequent overflows occur.
      for (int mag_bits : {bits - 4, bits - 1, bits + 2, 63}) {
        if (mag_bits < 1 || mag_bits > 63) continue;
        const int64_t lim = mag_bits >= 63 ? INT64_MAX : (int64_t(1) << mag_bits) - 1;
        std::uniform_int_distribution<int64_t> vd(-lim, lim);
        RefAcc ref{bits, ov};
        int64_t acc = 0;
        uint64_t n = 0;
        for (int i = 0; i < 2000; ++i) {
          const int64_t v = (i % 97 == 0) ? (i % 2 ? INT64_MAX : INT64_MIN) : vd(rng);
          acc = acc_add(spec, acc, v, n);
          ref.add(v);
          ASSERT_EQ(i128(acc), ref.acc) << "bits " << bits << " step " << i;
          ASSERT_EQ(n, ref.overflows) << "bits " << bits << " step " << i;
        }
        if (mag_bits > bits) {
          EXPECT_GT(n, 0u) << "sequence never overflowed, bits " << bits;
        }
      }
    }
  }
}

}  // namespace
}  // namespace msq
