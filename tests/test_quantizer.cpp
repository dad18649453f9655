#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "models/arith/fixed_point.h"
#include "models/arith/sp2.h"
#include "models/layer.h"
#include "models/quantizer.h"

namespace msq {
namespace {

// Nearest level by brute force over sp2_levels, ties to the smaller magnitude.
int32_t brute_sp2(double x, int bits) {
  static std::vector<int32_t> levels[9];
  const Sp2Format f(bits);
  if (levels[bits].empty()) levels[bits] = sp2_levels(f);
  const double y = x * double(1 << f.F);
  int32_t best = 0;
  for (int32_t l : levels[bits]) {
    const double d = std::fabs(l - y), db = std::fabs(best - y);
    if (d < db || (d == db && std::abs(l) < std::abs(best))) best = l;
  }
  return best;
}

TEST(Quantizer, FixedRoundsHalfAwayFromZero) {
  EXPECT_EQ(quantize_fixed(0.5, 2), 1);  // 0.5 * 1
  EXPECT_EQ(quantize_fixed(-0.5, 2), -1);
  EXPECT_EQ(quantize_fixed(std::nextafter(0.5, 0.0), 2), 0);
  EXPECT_EQ(quantize_fixed(0.5, 3), 2);  // 1.5
  EXPECT_EQ(quantize_fixed(-0.5, 3), -2);
  EXPECT_EQ(quantize_fixed(0.5, 4), 4);  // 3.5
  EXPECT_EQ(quantize_fixed(-0.5, 4), -4);
  EXPECT_EQ(quantize_fixed(std::nextafter(0.5, 0.0), 4), 3);
  EXPECT_EQ(quantize_fixed(std::nextafter(-0.5, 0.0), 4), -3);
  EXPECT_EQ(quantize_fixed(0.5, 5), 8);   // 7.5
  EXPECT_EQ(quantize_fixed(0.25, 4), 2);  // 1.75
  EXPECT_EQ(quantize_fixed(0.2, 4), 1);   // 1.4
  EXPECT_EQ(quantize_fixed(0.0, 8), 0);
  EXPECT_EQ(quantize_fixed(-0.0, 8), 0);
  EXPECT_EQ(quantize_fixed(1.0, 4), 7);
  EXPECT_EQ(quantize_fixed(-1.0, 4), -7);
  EXPECT_EQ(quantize_fixed(1.0 / 254.0, 8), 1);  // 127 / 254 = 0.5 up to rounding of x
}

TEST(Quantizer, FixedStaysInRangeForEveryWidth) {
  for (int b = 2; b <= 16; ++b) {
    const int32_t top = fixed_max(b);
    EXPECT_EQ(quantize_fixed(1.0, b), top);
    EXPECT_EQ(quantize_fixed(-1.0, b), -top);
    EXPECT_EQ(quantize_fixed(3.0, b), top);  // beyond alpha: clamped
    EXPECT_EQ(quantize_fixed(-3.0, b), -top);
    for (int i = -1000; i <= 1000; ++i) {
      const double x = i / 1000.0;
      const int32_t q = quantize_fixed(x, b);
      EXPECT_TRUE(fixed_in_range(b, q));
      EXPECT_LE(std::fabs(q - x * top), 0.5 + 1e-12) << "b " << b << " x " << x;
    }
  }
  EXPECT_THROW(quantize_fixed(0.1, 1), std::invalid_argument);
  EXPECT_THROW(quantize_fixed(0.1, 17), std::invalid_argument);
  EXPECT_THROW(quantize_fixed(std::nan(""), 4), std::invalid_argument);
}

TEST(Quantizer, Sp2FourBitHandCases) {
  // x * 8 against the magnitudes {0, 1, 2, 4, 5, 6, 8}.
  EXPECT_EQ(quantize_sp2(0.0625, 4), 0);  // 0.5: tie 0 / 1 -> 0
  EXPECT_EQ(quantize_sp2(0.07, 4), 1);    // 0.56
  EXPECT_EQ(quantize_sp2(0.1875, 4), 1);  // 1.5: tie -> 1
  EXPECT_EQ(quantize_sp2(0.19, 4), 2);
  EXPECT_EQ(quantize_sp2(0.375, 4), 2);  // 3: tie 2 / 4 -> 2
  EXPECT_EQ(quantize_sp2(std::nextafter(0.375, 1.0), 4), 4);
  EXPECT_EQ(quantize_sp2(0.4, 4), 4);     // 3.2
  EXPECT_EQ(quantize_sp2(0.5625, 4), 4);  // 4.5: tie -> 4
  EXPECT_EQ(quantize_sp2(0.6, 4), 5);     // 4.8
  EXPECT_EQ(quantize_sp2(0.875, 4), 6);   // 7: tie 6 / 8 -> 6
  EXPECT_EQ(quantize_sp2(-0.875, 4), -6);
  EXPECT_EQ(quantize_sp2(0.9, 4), 8);
  EXPECT_EQ(quantize_sp2(1.0, 4), 8);
  EXPECT_EQ(quantize_sp2(-1.0, 4), -8);
  EXPECT_EQ(quantize_sp2(-2.0, 4), -8);  // beyond alpha: clamped
  EXPECT_EQ(quantize_sp2(-0.1875, 4), -1);
  EXPECT_THROW(quantize_sp2(0.1, 2), std::invalid_argument);
  EXPECT_THROW(quantize_sp2(0.1, 9), std::invalid_argument);
}

TEST(Quantizer, Sp2MatchesBruteForceAtEveryMidpointAndRandomly) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  for (int b = 3; b <= 8; ++b) {
    const Sp2Format f(b);
    const double scale = double(1 << f.F);
    const auto levels = sp2_levels(f);
    for (size_t i = 0; i + 1 < levels.size(); ++i) {
      const double mid = 0.5 * (levels[i] + levels[i + 1]) / scale;
      for (double x :
           {mid, std::nextafter(mid, -2.0), std::nextafter(mid, 2.0), double(levels[i]) / scale}) {
        ASSERT_EQ(quantize_sp2(x, b), brute_sp2(x, b)) << "b " << b << " x " << x;
      }
    }
    for (int i = 0; i < 20000; ++i) {
      const double x = u(rng);
      ASSERT_EQ(quantize_sp2(x, b), brute_sp2(x, b)) << "b " << b << " x " << x;
    }
  }
}

TEST(Quantizer, RowErrorHandComputed) {
  // alpha 1. Fixed 4-bit: codes 7, 4 (3.5 up), -2 (-1.75), 0 -> errors 0, 1/14, 1/28, 0.
  // SP2 4-bit: 8, 4, -2, 0 times 1/8 are exact.
  const float w[] = {1.0f, 0.5f, -0.25f, 0.0f};
  const RowError e = row_error(w, 4, 4);
  EXPECT_DOUBLE_EQ(e.alpha, 1.0);
  EXPECT_DOUBLE_EQ(e.norm2, 1.3125);
  EXPECT_NEAR(e.sse_fixed, 1.0 / 196 + 1.0 / 784, 1e-15);
  EXPECT_DOUBLE_EQ(e.sse_sp2, 0.0);
  const float z[] = {0.0f, -0.0f, 0.0f};
  const RowError ez = row_error(z, 3, 4);
  EXPECT_EQ(ez.alpha, 0.0);
  EXPECT_EQ(ez.sse_fixed, 0.0);
  EXPECT_EQ(ez.sse_sp2, 0.0);
  const float bad[] = {1.0f, std::numeric_limits<float>::quiet_NaN()};
  EXPECT_THROW(row_error(bad, 2, 4), std::invalid_argument);
  const float inf[] = {1.0f, -std::numeric_limits<float>::infinity()};
  EXPECT_THROW(row_error(inf, 2, 4), std::invalid_argument);
}

TEST(Quantizer, SchemeCounts) {
  SchemeCounts c = scheme_counts(10, 0.25, 0.0);  // 2.5 rounds away from zero
  EXPECT_EQ(c.sp2, 3);
  EXPECT_EQ(c.fixed8, 0);
  EXPECT_EQ(c.fixed_low, 7);
  c = scheme_counts(3, 0.5, 0.5);  // 2 + 2 > 3: SP2 gets what is left
  EXPECT_EQ(c.fixed8, 2);
  EXPECT_EQ(c.sp2, 1);
  EXPECT_EQ(c.fixed_low, 0);
  c = scheme_counts(64, 0.7, 0.3);  // sums to 1 up to rounding: accepted
  EXPECT_EQ(c.fixed8 + c.sp2, 64);
  EXPECT_EQ(c.fixed8, 19);
  c = scheme_counts(0, 0.5, 0.1);
  EXPECT_EQ(c.sp2 + c.fixed8 + c.fixed_low, 0);
  EXPECT_THROW(scheme_counts(10, 0.8, 0.3), std::invalid_argument);
  EXPECT_THROW(scheme_counts(10, -0.1, 0.0), std::invalid_argument);
  EXPECT_THROW(scheme_counts(10, 0.5, 1.5), std::invalid_argument);
  EXPECT_THROW(scheme_counts(10, std::nan(""), 0.0), std::invalid_argument);
}

// One heavy-tailed bell row among uniform rows of the same variance: with one SP2 slot the bell
// row takes it. A plain normal row would not: with alpha = max|w| the 4-bit SP2 gap between 1/4
// and 1/2 of alpha costs a normal row more than the fixed grid does (docs/arithmetic.md: the policy
// picks the rows where SP2 loses least, and that is not the normal row).
TEST(Quantizer, HeavyTailedRowGoesSp2WhenRIsSmall) {
  const int64_t M = 8, K = 1152;
  std::mt19937_64 rng(11);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> w(M * K);
  const int64_t bell_row = 5, normal_row = 2;
  // Normalised to unit variance: g^3 has variance 15, the uniform 1/3.
  for (int64_t m = 0; m < M; ++m)
    for (int64_t k = 0; k < K; ++k) {
      const float x = g(rng);
      w[m * K + k] = m == bell_row     ? x * x * x / std::sqrt(15.0f)
                     : m == normal_row ? x
                                       : u(rng) * std::sqrt(3.0f);
    }
  for (int64_t m = 0; m < M; ++m) {
    const RowError e = row_error(w.data() + m * K, K, 4);
    if (m == bell_row) {
      EXPECT_GT(e.sse_fixed, e.sse_sp2);
    } else {
      EXPECT_LT(e.sse_fixed, e.sse_sp2) << m;
    }
  }
  const QuantizedMatrix q = quantize_matrix(w.data(), M, K, 1.0 / 8, 0.0, 4);
  for (int64_t m = 0; m < M; ++m) {
    EXPECT_EQ(q.scheme[m], uint8_t(m == bell_row ? Scheme::Sp2 : Scheme::Fixed)) << m;
    EXPECT_EQ(q.bits[m], 4);
  }
  EXPECT_GT(q.rel_err_sp2, 0.0);
  EXPECT_GT(q.rel_err_fixed, 0.0);
}

// Rows whose values are all SP2 levels (power-of-two fractions) favour SP2, rows on the 4-bit
// fixed grid (k/7) favour fixed; identical rows tie and go by row index.
TEST(Quantizer, AssignmentOnHandMadeMatrix) {
  const int64_t K = 7;
  const std::vector<float> pow2{1.0f, 0.5f, -0.25f, 0.125f, -0.625f, 0.75f, 0.0f};  // SP2 exact
  const std::vector<float> grid{1.0f, 3 / 7.0f, -5 / 7.0f, 1 / 7.0f, -6 / 7.0f, 2 / 7.0f, 0.0f};
  std::vector<float> w;
  // rows: 0 grid, 1 pow2, 2 grid, 3 pow2 (twice as large: larger errors), 4 pow2
  for (int m = 0; m < 5; ++m) {
    const auto& src = (m == 1 || m == 3 || m == 4) ? pow2 : grid;
    const float s = m == 3 ? 2.0f : 1.0f;
    for (float v : src) w.push_back(s * v);
  }
  const int64_t M = 5;
  // r = 0.4 -> 2 SP2 rows: the pow2 rows score sse_fixed - 0 > 0; row 3's score is 4x the others,
  // rows 1 and 4 tie and row 1 wins by index.
  QuantizedMatrix q = quantize_matrix(w.data(), M, K, 0.4, 0.0, 4);
  std::vector<uint8_t> want{0, 1, 0, 1, 0};
  EXPECT_EQ(q.scheme, want);
  EXPECT_DOUBLE_EQ(q.rel_err_sp2, 0.0);  // pow2 rows are exact in SP2
  EXPECT_GT(q.rel_err_fixed, 0.0);       // row 4 is a pow2 row quantized fixed
  // f8 = 0.2 -> 1 row at 8 bits: the largest low-bit error min(fixed, sp2). Grid rows have fixed
  // error 0 and pow2 rows SP2 error 0, so every key is 0 and row 0 wins by index; SP2 then takes
  // rows 1 and 3 again.
  q = quantize_matrix(w.data(), M, K, 0.4, 0.2, 4);
  EXPECT_EQ(q.scheme, want);
  EXPECT_EQ(q.bits, (std::vector<uint8_t>{8, 4, 4, 4, 4}));
  EXPECT_EQ(q.weights[0], 127);  // row 0 coded at 8 bits
  // r = 1: every row SP2, no fixed rows.
  q = quantize_matrix(w.data(), M, K, 1.0, 0.0, 4);
  EXPECT_EQ(q.rel_err_fixed, -1.0);
  EXPECT_EQ(std::count(q.scheme.begin(), q.scheme.end(), uint8_t(Scheme::Sp2)), M);
  q = quantize_matrix(w.data(), M, K, 0.0, 0.0, 4);
  EXPECT_EQ(q.rel_err_sp2, -1.0);
}

TEST(Quantizer, EightBitRowsAreTheMostSensitive) {
  // Same shape, scales 1, 5, 2, 3: low-bit error grows with the square of the scale.
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const int64_t M = 4, K = 64;
  std::vector<float> base(K), w;
  for (auto& v : base) v = u(rng);
  for (float s : {1.0f, 5.0f, 2.0f, 3.0f})
    for (float v : base) w.push_back(s * v);
  const QuantizedMatrix q = quantize_matrix(w.data(), M, K, 0.5, 0.25, 4);
  EXPECT_EQ(q.bits, (std::vector<uint8_t>{4, 8, 4, 4}));
  EXPECT_EQ(q.scheme[1], uint8_t(Scheme::Fixed));
  EXPECT_EQ(std::count(q.scheme.begin(), q.scheme.end(), uint8_t(Scheme::Sp2)), 2);
}

// On random matrices: counts, value ranges, codes equal to the scalar functions, the selection
// rules, and the relative errors recomputed row by row.
TEST(Quantizer, RandomMatricesFollowThePolicy) {
  std::mt19937_64 rng(9);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  struct P {
    double r, f8;
    int bits;
  };
  for (const P p : {P{0.5, 0.0, 4}, P{0.3, 0.1, 4}, P{0.6, 0.25, 3}, P{0.2, 0.2, 5}, P{0.5, 0.1, 6},
                    P{0.4, 0.0, 8}, P{0.0, 0.3, 2}}) {
    const int64_t M = 37, K = 50;
    std::vector<float> w(M * K);
    for (int64_t m = 0; m < M; ++m) {
      const bool bell = rng() % 2;
      for (int64_t k = 0; k < K; ++k) w[m * K + k] = bell ? g(rng) : 0.3f * u(rng);
    }
    std::fill(w.begin() + 7 * K, w.begin() + 8 * K, 0.0f);  // one all-zero row
    SCOPED_TRACE(testing::Message() << "r " << p.r << " f8 " << p.f8 << " bits " << p.bits);
    const QuantizedMatrix q = quantize_matrix(w.data(), M, K, p.r, p.f8, p.bits);
    const SchemeCounts c = scheme_counts(M, p.r, p.f8);
    ASSERT_EQ(q.weights.size(), size_t(M * K));
    int64_t n_sp2 = 0, n8 = 0;
    std::vector<RowError> e(M);
    double es = 0, ns = 0, ef = 0, nf = 0;
    for (int64_t m = 0; m < M; ++m) {
      e[m] = row_error(w.data() + m * K, K, p.bits);
      EXPECT_EQ(q.alpha[m], e[m].alpha);
      const bool sp2 = q.scheme[m] == uint8_t(Scheme::Sp2);
      n_sp2 += sp2;
      n8 += q.bits[m] == 8 && !sp2;
      if (!sp2 && q.bits[m] == 8 && p.bits != 8) {
        // 8-bit error comes from row_error at 8 bits
        ef += row_error(w.data() + m * K, K, 8).sse_fixed;
      } else {
        (sp2 ? es : ef) += sp2 ? e[m].sse_sp2 : e[m].sse_fixed;
      }
      (sp2 ? ns : nf) += e[m].norm2;
      for (int64_t k = 0; k < K; ++k) {
        const int32_t v = q.weights[m * K + k];
        const double x = e[m].alpha > 0 ? double(w[m * K + k]) / e[m].alpha : 0.0;
        if (sp2) {
          ASSERT_EQ(q.bits[m], p.bits);
          ASSERT_TRUE(sp2_is_level(Sp2Format(p.bits), v));
          ASSERT_EQ(v, quantize_sp2(x, p.bits));
        } else {
          ASSERT_TRUE(fixed_in_range(q.bits[m], v));
          ASSERT_EQ(v, quantize_fixed(x, q.bits[m]));
        }
      }
    }
    EXPECT_EQ(n_sp2, c.sp2);
    if (p.bits != 8) {
      EXPECT_EQ(n8, c.fixed8);
    }
    for (int64_t k = 0; k < K; ++k) EXPECT_EQ(q.weights[7 * K + k], 0);
    EXPECT_EQ(q.alpha[7], 0.0);
    // Every 8-bit row's low-bit error >= every other row's; every SP2 row's score >= every
    // low-bit fixed row's.
    auto low_err = [&](int64_t m) {
      return p.bits >= 3 ? std::min(e[m].sse_fixed, e[m].sse_sp2) : e[m].sse_fixed;
    };
    auto score = [&](int64_t m) { return e[m].sse_fixed - e[m].sse_sp2; };
    for (int64_t a = 0; a < M; ++a)
      for (int64_t b = 0; b < M; ++b) {
        const bool a8 = q.bits[a] == 8 && q.scheme[a] == 0 && p.bits != 8;
        const bool b8 = q.bits[b] == 8 && q.scheme[b] == 0 && p.bits != 8;
        if (a8 && !b8) {
          EXPECT_GE(low_err(a), low_err(b)) << a << " " << b;
        }
        if (q.scheme[a] == 1 && q.scheme[b] == 0 && !b8) {
          EXPECT_GE(score(a), score(b)) << a << " " << b;
        }
      }
    if (c.sp2 > 0) {
      EXPECT_NEAR(q.rel_err_sp2, es / ns, 1e-12 * (1 + es / ns));
    } else {
      EXPECT_EQ(q.rel_err_sp2, -1.0);
    }
    EXPECT_NEAR(q.rel_err_fixed, ef / nf, 1e-12 * (1 + ef / nf));
  }
}

TEST(Quantizer, RejectsBadArguments) {
  const std::vector<float> w(8, 0.1f);
  EXPECT_THROW(quantize_matrix(w.data(), 2, 4, 0.7, 0.4, 4), std::invalid_argument);
  EXPECT_THROW(quantize_matrix(w.data(), 2, 4, 0.5, 0.0, 2), std::invalid_argument);  // SP2 at 2
  EXPECT_NO_THROW(quantize_matrix(w.data(), 2, 4, 0.0, 0.0, 2));
  EXPECT_THROW(quantize_matrix(w.data(), 2, 4, 0.5, 0.0, 9), std::invalid_argument);
  EXPECT_THROW(quantize_matrix(w.data(), 2, 0, 0.5, 0.0, 4), std::invalid_argument);
}

TEST(Quantizer, AssignByCountGivesTheSameCountsSpreadEvenly) {
  for (int64_t M : {0, 1, 2, 3, 7, 64, 100, 1000})
    for (double r : {0.0, 0.25, 0.5, 0.6, 1.0})
      for (double f8 : {0.0, 0.1, 0.3}) {
        if (r + f8 > 1.0) continue;
        std::vector<uint8_t> scheme, bits;
        assign_schemes_by_count(M, r, f8, 4, scheme, bits);
        const SchemeCounts c = scheme_counts(M, r, f8);
        ASSERT_EQ(int64_t(scheme.size()), M);
        int64_t n_sp2 = 0, n8 = 0, n4 = 0;
        for (int64_t m = 0; m < M; ++m) {
          if (scheme[m] == uint8_t(Scheme::Sp2)) {
            ++n_sp2;
            EXPECT_EQ(bits[m], 4);
          } else {
            (bits[m] == 8 ? n8 : n4)++;
          }
        }
        EXPECT_EQ(n_sp2, c.sp2) << M << " " << r << " " << f8;
        EXPECT_EQ(n8, c.fixed8);
        EXPECT_EQ(n4, c.fixed_low);
      }
  // Spread: half SP2 alternates.
  std::vector<uint8_t> scheme, bits;
  assign_schemes_by_count(8, 0.5, 0.0, 4, scheme, bits);
  EXPECT_EQ(scheme, (std::vector<uint8_t>{0, 1, 0, 1, 0, 1, 0, 1}));
}

}  // namespace
}  // namespace msq
