#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <random>

#include "models/arith/fixed_point.h"
#include "models/arith/sp2.h"
#include "models/error.h"
#include "models/functional_model.h"

namespace {

using msq::ActTensor;
using msq::OutputKind;
using msq::Overflow;
using msq::QuantLayer;

// The oracle: a direct convolution, one output at a time, with its own int128 accumulator, so that
// it shares neither the im2col buffer nor the fast/checked split with the model.
struct Naive {
  std::vector<int64_t> out;
  uint64_t overflows = 0;
};

// One output of a direct convolution; overflows are added to *overflows.
int64_t naive_one(const QuantLayer& l, const ActTensor& in, int b, int m, int oh, int ow,
                  uint64_t* overflows) {
  const auto& s = l.shape;
  const __int128 lo = -(__int128(1) << (l.acc_bits - 1)),
                 hi = (__int128(1) << (l.acc_bits - 1)) - 1;
  auto fit = [&](__int128 v) -> __int128 {
    if (v >= lo && v <= hi) return v;
    ++*overflows;
    if (l.overflow == Overflow::Saturate) return v < lo ? lo : hi;
    const __int128 mod = __int128(1) << l.acc_bits;
    __int128 w = v % mod;
    if (w < 0) w += mod;
    return w > hi ? w - mod : w;
  };
  const int cg = s.in_c / s.groups, mg = s.out_c / s.groups;
  const int64_t K = s.k();
  __int128 acc = fit(l.bias[m]);
  for (int c = 0; c < cg; ++c)
    for (int i = 0; i < s.kh; ++i)
      for (int j = 0; j < s.kw; ++j) {
        const int ih = oh * s.sh - s.ph + i, iw = ow * s.sw - s.pw + j;
        const int64_t x = (ih >= 0 && ih < s.in_h && iw >= 0 && iw < s.in_w)
                              ? in.at(b, (m / mg) * cg + c, ih, iw)
                              : l.in_zero;
        acc = fit(acc + __int128(l.weights[m * K + (c * s.kh + i) * s.kw + j]) * x);
      }
  int64_t y = int64_t(acc);
  if (l.output == OutputKind::Activations) {
    const uint64_t p = uint64_t(y) * uint64_t(l.rq_mult[m]) + (uint64_t(1) << (l.rq_shift[m] - 1));
    y = (int64_t(p) >> l.rq_shift[m]) + l.out_zero;
    y = std::clamp<int64_t>(y, l.lo, l.hi < 0 ? (int64_t(1) << l.act_bits) - 1 : l.hi);
  }
  return y;
}

Naive naive_conv(const QuantLayer& l, const ActTensor& in) {
  const auto& s = l.shape;
  Naive r;
  for (int b = 0; b < s.batch; ++b)
    for (int m = 0; m < s.out_c; ++m)
      for (int oh = 0; oh < s.out_h(); ++oh)
        for (int ow = 0; ow < s.out_w(); ++ow)
          r.out.push_back(naive_one(l, in, b, m, oh, ow, &r.overflows));
  return r;
}

struct Case {
  const char* name;
  int b, c, h, w, m, kh, kw, sh, sw, ph, pw, groups;
  bool fc = false;
};

const Case kCases[] = {
    {"3x3_s1_p1", 1, 3, 9, 9, 8, 3, 3, 1, 1, 1, 1, 1},
    {"3x3_s2_p1_g2_b2", 2, 4, 10, 11, 6, 3, 3, 2, 2, 1, 1, 2},
    {"7x7_s2_p3", 1, 3, 15, 15, 4, 7, 7, 2, 2, 3, 3, 1},
    {"depthwise_3x3_b2", 2, 8, 7, 7, 8, 3, 3, 1, 1, 1, 1, 8},
    {"depthwise_7x7_p3", 2, 5, 9, 7, 5, 7, 7, 1, 1, 3, 3, 5},
    {"1x1_p0", 1, 16, 6, 6, 32, 1, 1, 1, 1, 0, 0, 1},
    {"1x1_s2_g3", 1, 6, 8, 8, 12, 1, 1, 2, 2, 0, 0, 3},
    {"3x1_s2x1_p1x0", 1, 4, 8, 9, 4, 3, 1, 2, 1, 1, 0, 1},
    {"many_columns_b2", 2, 3, 23, 23, 9, 3, 3, 1, 1, 1, 1, 1},  // N = 1058 spans column blocks
    {"fc_b2", 2, 64, 1, 1, 10, 1, 1, 1, 1, 0, 0, 1, true},
};

int32_t random_weight(std::mt19937_64& rng, uint8_t scheme, int bits) {
  if (scheme == uint8_t(msq::Scheme::Sp2)) {
    static std::vector<int32_t> cache[9];
    std::vector<int32_t>& levels = cache[bits];
    if (levels.empty()) levels = msq::sp2_levels(msq::Sp2Format(bits));
    return levels[rng() % levels.size()];
  }
  const int64_t mx = msq::fixed_max(bits);
  return int32_t(int64_t(rng() % uint64_t(2 * mx + 1)) - mx);
}

// Random rows: SP2 3..8 bits and fixed 2..16 bits; row 0 is a 16-bit fixed row of large weights so
// that a 16-bit accumulator overflows in every layer.
QuantLayer random_layer(const Case& cs, int act_bits, int acc_bits, Overflow ov, OutputKind out,
                        uint64_t seed) {
  std::mt19937_64 rng(seed);
  QuantLayer l;
  auto& s = l.shape;
  s.name = cs.name;
  s.type = cs.fc ? msq::LayerType::Fc : msq::LayerType::Conv;
  s.batch = cs.b;
  s.in_c = cs.c;
  s.in_h = cs.h;
  s.in_w = cs.w;
  s.out_c = cs.m;
  s.kh = cs.kh;
  s.kw = cs.kw;
  s.sh = cs.sh;
  s.sw = cs.sw;
  s.ph = cs.ph;
  s.pw = cs.pw;
  s.groups = cs.groups;
  l.act_bits = act_bits;
  l.acc_bits = acc_bits;
  l.overflow = ov;
  l.output = out;
  const int64_t M = s.m(), K = s.k();
  for (int64_t m = 0; m < M; ++m) {
    const bool sp2 = m != 0 && rng() % 2;
    const int bits = m == 0 ? 16 : sp2 ? 3 + int(rng() % 6) : 2 + int(rng() % 15);
    l.scheme.push_back(uint8_t(sp2 ? msq::Scheme::Sp2 : msq::Scheme::Fixed));
    l.bits.push_back(uint8_t(bits));
    for (int64_t k = 0; k < K; ++k) {
      int32_t w = random_weight(rng, l.scheme.back(), bits);
      if (m == 0 && k % 2 == 0) w = 30000;
      l.weights.push_back(w);
    }
    // Mostly small biases; now and then one that a 16-bit accumulator cannot even load.
    l.bias.push_back(rng() % 8 == 0 ? int32_t(rng() % 200000) - 100000
                                    : int32_t(rng() % 2001) - 1000);
    l.rq_mult.push_back(int32_t(rng() % (1u << 20)));
    l.rq_shift.push_back(int8_t(1 + rng() % 30));
  }
  if (M > 1) {  // a product that wraps int64 in requantization
    l.rq_mult[1] = INT32_MAX;
    l.rq_shift[1] = 62;
  }
  return l;
}

ActTensor random_input(const QuantLayer& l, uint64_t seed) {
  std::mt19937_64 rng(seed);
  ActTensor a;
  a.b = l.shape.batch;
  a.c = l.shape.in_c;
  a.h = l.shape.in_h;
  a.w = l.shape.in_w;
  for (size_t i = 0; i < a.size(); ++i) {
    // Include the extremes: 0 and the largest code.
    const uint64_t r = rng() % 10;
    const uint16_t mx = uint16_t((1u << l.act_bits) - 1);
    uint16_t v = uint16_t(rng() % (uint64_t(mx) + 1));
    if (r == 0) v = 0;
    if (r == 1) v = mx;
    a.data.push_back(v);
  }
  return a;
}

TEST(FunctionalModel, MatchesDirectConvolution) {
  struct Acc {
    int bits;
    Overflow ov;
  };
  const Acc accs[] = {
      {32, Overflow::Wrap}, {16, Overflow::Wrap}, {16, Overflow::Saturate}, {48, Overflow::Wrap}};
  uint64_t seed = 1;
  for (const Case& cs : kCases)
    for (int act_bits : {8, 12})
      for (const Acc& acc : accs)
        for (OutputKind out : {OutputKind::Activations, OutputKind::Accumulators}) {
          SCOPED_TRACE(testing::Message()
                       << cs.name << " act_bits " << act_bits << " acc_bits " << acc.bits
                       << (acc.ov == Overflow::Wrap ? " wrap" : " sat")
                       << (out == OutputKind::Activations ? " act" : " acc"));
          const QuantLayer l = random_layer(cs, act_bits, acc.bits, acc.ov, out, ++seed);
          const ActTensor in = random_input(l, ++seed);
          const msq::FunctionalResult got = msq::run_functional(l, in);
          const Naive want = naive_conv(l, in);
          EXPECT_EQ(got.out.b, cs.b);
          EXPECT_EQ(got.out.c, cs.m);
          EXPECT_EQ(got.out.h, l.shape.out_h());
          EXPECT_EQ(got.out.w, l.shape.out_w());
          ASSERT_EQ(got.out.data, want.out);
          EXPECT_EQ(got.overflows, want.overflows);
          if (acc.bits == 16) {
            EXPECT_GT(got.overflows, 0u);
          }
          if (acc.bits == 48) {
            EXPECT_EQ(got.overflows, 0u);
          }
        }
}

// Zero points and the clamp (docs/arithmetic.md): padding holds the input zero point, the
// output is shifted by the output zero point and clamped to [lo, hi].
TEST(FunctionalModel, ZeroPointsAndClampMatchDirectConvolution) {
  uint64_t seed = 500;
  for (const Case& cs : kCases) {
    SCOPED_TRACE(cs.name);
    QuantLayer l = random_layer(cs, 8, 32, Overflow::Wrap, OutputKind::Activations, ++seed);
    const ActTensor in = random_input(l, ++seed);
    const msq::FunctionalResult plain = msq::run_functional(l, in);
    l.in_zero = 37;
    l.out_zero = 20;
    l.lo = 20;   // a fused ReLU
    l.hi = 200;  // and a ReLU6-like top
    const msq::FunctionalResult got = msq::run_functional(l, in);
    ASSERT_EQ(got.out.data, naive_conv(l, in).out);
    // Must differ from the zero-point-free result, or the test proves nothing.
    EXPECT_NE(got.out.data, plain.out.data);
    for (int64_t v : got.out.data) {
      EXPECT_GE(v, 20);
      EXPECT_LE(v, 200);
    }
  }
}

TEST(FunctionalModel, PaddingReadsTheInputZeroPoint) {
  // A 1x1 input, 3x3 kernel of ones, padding 1: the one output sees the input once and the zero
  // point 8 times.
  QuantLayer l;
  l.shape.in_c = 1, l.shape.in_h = 1, l.shape.in_w = 1, l.shape.out_c = 1;
  l.shape.kh = l.shape.kw = 3, l.shape.ph = l.shape.pw = 1;
  l.output = OutputKind::Accumulators;
  l.weights.assign(9, 1);
  l.scheme = {0};
  l.bits = {8};
  l.bias = {0};
  l.rq_mult = {1};
  l.rq_shift = {1};
  l.in_zero = 5;
  ActTensor in;
  in.b = in.c = in.h = in.w = 1;
  in.data = {100};
  EXPECT_EQ(msq::run_functional(l, in).out.data, std::vector<int64_t>{100 + 8 * 5});
  l.in_zero = 256;  // not an 8-bit code
  EXPECT_THROW(msq::run_functional(l, in), msq::InputError);
}

QuantLayer tiny_fc(int acc_bits, Overflow ov, OutputKind out) {
  QuantLayer l;
  l.shape.type = msq::LayerType::Fc;
  l.shape.in_c = 2;
  l.shape.out_c = 1;
  l.acc_bits = acc_bits;
  l.overflow = ov;
  l.output = out;
  l.weights = {1, 1};
  l.scheme = {0};
  l.bits = {8};
  l.bias = {100};
  l.rq_mult = {1};
  l.rq_shift = {1};
  return l;
}

ActTensor tiny_input(uint16_t a, uint16_t b) {
  ActTensor in;
  in.b = 1;
  in.c = 2;
  in.h = in.w = 1;
  in.data = {a, b};
  return in;
}

// Hand-worked values, independent of both implementations above.
TEST(FunctionalModel, HandWorkedOverflowAndRounding) {
  // 8-bit accumulator: 100 + 20 = 120, then 120 + 20 = 140 leaves [-128, 127].
  auto r =
      msq::run_functional(tiny_fc(8, Overflow::Wrap, OutputKind::Accumulators), tiny_input(20, 20));
  EXPECT_EQ(r.out.data, std::vector<int64_t>{140 - 256});
  EXPECT_EQ(r.overflows, 1u);
  r = msq::run_functional(tiny_fc(8, Overflow::Saturate, OutputKind::Accumulators),
                          tiny_input(20, 20));
  EXPECT_EQ(r.out.data, std::vector<int64_t>{127});
  EXPECT_EQ(r.overflows, 1u);
  // Saturation is sticky per addition: 100 + 100 -> 127, 127 + 0 stays; a later negative term
  // would start from 127, not from the exact 200.
  QuantLayer l = tiny_fc(8, Overflow::Saturate, OutputKind::Accumulators);
  l.weights = {1, -1};
  r = msq::run_functional(l, tiny_input(100, 50));
  EXPECT_EQ(r.out.data, std::vector<int64_t>{77});  // 100 + 100 = 200 -> 127; 127 - 50 = 77
  EXPECT_EQ(r.overflows, 1u);
  // Rounding: (acc + 1) >> 1 with acc = 100 + 3 + 2 = 105 gives 53; clamp at 0 for negatives.
  r = msq::run_functional(tiny_fc(32, Overflow::Wrap, OutputKind::Activations), tiny_input(3, 2));
  EXPECT_EQ(r.out.data, std::vector<int64_t>{53});
  l = tiny_fc(32, Overflow::Wrap, OutputKind::Activations);
  l.bias = {-1000};
  r = msq::run_functional(l, tiny_input(3, 2));
  EXPECT_EQ(r.out.data, std::vector<int64_t>{0});
  // Clamp at the top of the activation range.
  l.bias = {10000};
  r = msq::run_functional(l, tiny_input(3, 2));
  EXPECT_EQ(r.out.data, std::vector<int64_t>{255});
}

TEST(FunctionalModel, RejectsInconsistentInput) {
  QuantLayer l = tiny_fc(32, Overflow::Wrap, OutputKind::Activations);
  EXPECT_THROW(msq::run_functional(l, tiny_input(256, 0)), msq::InputError);  // above 2^8 - 1
  ActTensor bad = tiny_input(1, 2);
  bad.c = 3;
  EXPECT_THROW(msq::run_functional(l, bad), msq::InputError);
  l.rq_shift = {0};
  EXPECT_THROW(msq::run_functional(l, tiny_input(1, 2)), msq::InputError);
}

// Throughput on a ResNet-18-like layer (M=128, K=1152, N=784; 4-bit weights, 8-bit activations,
// 32-bit accumulators). Prints GMAC/s; what it asserts is that the fast path's outputs equal the
// oracle's on a sample of rows, not any time.
TEST(FunctionalModelPerf, Resnet18LikeLayer) {
  const Case cs{"res3_3x3", 1, 128, 28, 28, 128, 3, 3, 1, 1, 1, 1, 1};
  std::mt19937_64 rng(7);
  QuantLayer l = random_layer(cs, 8, 32, Overflow::Wrap, OutputKind::Activations, 11);
  for (int64_t m = 0; m < l.shape.m(); ++m) {  // 4-bit SP2 / fixed rows only
    l.scheme[m] = uint8_t(m % 2);
    l.bits[m] = 4;
    for (int64_t k = 0; k < l.shape.k(); ++k)
      l.weights[m * l.shape.k() + k] = random_weight(rng, l.scheme[m], 4);
    l.rq_mult[m] = 1 << 10;
    l.rq_shift[m] = 20;
  }
  const ActTensor in = random_input(l, 12);
  msq::FunctionalResult r;
  double best = 1e9;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    r = msq::run_functional(l, in);
    best = std::min(best,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::printf("functional model: M=128 K=1152 N=784: %.2f ms, %.2f GMAC/s\n", best * 1e3,
              double(l.shape.macs()) / best * 1e-9);
  EXPECT_EQ(r.overflows, 0u);
  // The oracle on 6 of the rows (a whole run of it takes seconds).
  QuantLayer sub = l;
  const std::vector<int> rows{0, 1, 2, 63, 64, 127};
  sub.shape.out_c = int(rows.size());
  sub.weights.clear();
  sub.bias.clear();
  sub.rq_mult.clear();
  sub.rq_shift.clear();
  for (int m : rows) {
    sub.weights.insert(sub.weights.end(), l.row(m), l.row(m) + l.shape.k());
    sub.bias.push_back(l.bias[m]);
    sub.rq_mult.push_back(l.rq_mult[m]);
    sub.rq_shift.push_back(l.rq_shift[m]);
  }
  const Naive want = naive_conv(sub, in);
  const int64_t hw = 28 * 28;
  for (size_t i = 0; i < rows.size(); ++i)
    for (int64_t p = 0; p < hw; ++p)
      ASSERT_EQ(r.out.data[rows[i] * hw + p], want.out[i * hw + p]) << "row " << rows[i];
}

// ResNet-18 at 224x224, batch 1 (1.8 GMAC): 4-bit SP2 and fixed rows, 8-bit activations, 32-bit
// accumulators, the shape of the project's benchmark. Prints the time; asserts a sample of outputs
// of every layer against the oracle.
TEST(FunctionalModelPerf, Resnet18Network) {
  struct L {
    int c, hw, m, k, s;
  };
  std::vector<L> net{{3, 224, 64, 7, 2}};
  for (int i = 0; i < 4; ++i) net.push_back({64, 56, 64, 3, 1});
  for (int c : {64, 128, 256}) {
    const int hw = c == 64 ? 56 : c == 128 ? 28 : 14;
    net.push_back({c, hw, 2 * c, 3, 2});
    net.push_back({c, hw, 2 * c, 1, 2});  // downsample
    for (int i = 0; i < 3; ++i) net.push_back({2 * c, hw / 2, 2 * c, 3, 1});
  }
  std::mt19937_64 rng(3);
  double total_s = 0, macs = 0;
  int idx = 0;
  for (const L& n : net) {
    const Case cs{"resnet18", 1, n.c, n.hw, n.hw, n.m, n.k, n.k, n.s, n.s, n.k / 2, n.k / 2, 1};
    QuantLayer l = random_layer(cs, 8, 32, Overflow::Wrap, OutputKind::Activations, 100 + idx);
    for (int64_t m = 0; m < l.shape.m(); ++m) {
      l.scheme[m] = uint8_t(m % 2);
      l.bits[m] = 4;
      for (int64_t k = 0; k < l.shape.k(); ++k)
        l.weights[m * l.shape.k() + k] = random_weight(rng, l.scheme[m], 4);
      l.rq_mult[m] = 1 << 10;
      l.rq_shift[m] = 20;
    }
    const ActTensor in = random_input(l, 200 + idx);
    const auto t0 = std::chrono::steady_clock::now();
    const msq::FunctionalResult r = msq::run_functional(l, in);
    total_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    macs += double(l.shape.macs());
    EXPECT_EQ(r.overflows, 0u);
    for (int t = 0; t < 20; ++t) {
      const int m = int(rng() % uint64_t(n.m)), oh = int(rng() % uint64_t(l.shape.out_h())),
                ow = int(rng() % uint64_t(l.shape.out_w()));
      uint64_t ovf = 0;
      ASSERT_EQ(r.out.data[(size_t(m) * r.out.h + oh) * r.out.w + ow],
                naive_one(l, in, 0, m, oh, ow, &ovf))
          << "layer " << idx << " m " << m << " oh " << oh << " ow " << ow;
    }
    ++idx;
  }
  std::printf("functional model: ResNet-18 convs, %.3f GMAC in %.3f s, %.2f GMAC/s\n", macs * 1e-9,
              total_s, macs / total_s * 1e-9);
}

}  // namespace
