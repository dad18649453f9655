#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <vector>

#include "models/arith/fixed_point.h"
#include "models/arith/requant.h"
#include "models/arith/sp2.h"
#include "models/error.h"
#include "models/quantizer.h"
#include "models/workload_builder.h"
#include "tests/resnet18_shapes.h"

namespace msq {
namespace {

using testing_shapes::conv;

std::vector<LayerShape> small_net() {
  std::vector<LayerShape> v{conv("a", 3, 16, 16, 3, 1, 1), conv("b", 16, 16, 32, 3, 2, 1),
                            conv("c", 32, 8, 32, 3, 1, 1)};
  v[2].groups = 4;
  LayerShape fc = conv("fc", 32, 1, 10, 1, 1, 0);
  fc.type = LayerType::Fc;
  v.push_back(fc);
  return v;
}

WorkloadConfig cfg() {
  WorkloadConfig w;
  w.batch = 2;
  w.sp2_fraction = 0.5;
  w.fixed8_fraction = 0.125;
  w.weight_bits = 4;
  w.act_bits = 8;
  w.seed = 42;
  return w;
}

int64_t count(const std::vector<uint8_t>& v, uint8_t x) {
  return std::count(v.begin(), v.end(), x);
}

TEST(WorkloadBuilder, LayerFieldsAndValueRanges) {
  const auto shapes = small_net();
  AccumulatorConfig acc;
  acc.bits = 24;
  acc.overflow = Overflow::Saturate;
  const Workload wl = build_workload("net", shapes, cfg(), acc, true);
  EXPECT_EQ(wl.name, "net");
  ASSERT_EQ(wl.layers.size(), shapes.size());
  ASSERT_EQ(wl.inputs.size(), shapes.size());
  for (size_t i = 0; i < wl.layers.size(); ++i) {
    const QuantLayer& L = wl.layers[i];
    SCOPED_TRACE(L.shape.name);
    const int64_t M = L.shape.m(), K = L.shape.k();
    EXPECT_EQ(L.shape.batch, 2);
    EXPECT_EQ(L.act_bits, 8);
    EXPECT_EQ(L.acc_bits, 24);
    EXPECT_EQ(L.overflow, Overflow::Saturate);
    EXPECT_EQ(L.output,
              i + 1 == shapes.size() ? OutputKind::Accumulators : OutputKind::Activations);
    ASSERT_EQ(int64_t(L.weights.size()), M * K);
    ASSERT_EQ(int64_t(L.scheme.size()), M);
    ASSERT_EQ(int64_t(L.bits.size()), M);
    ASSERT_EQ(int64_t(L.bias.size()), M);
    ASSERT_EQ(int64_t(L.rq_mult.size()), M);
    ASSERT_EQ(int64_t(L.rq_shift.size()), M);
    const SchemeCounts c = scheme_counts(M, 0.5, 0.125);
    EXPECT_EQ(count(L.scheme, uint8_t(Scheme::Sp2)), c.sp2);
    int64_t n8 = 0;
    for (int64_t m = 0; m < M; ++m) {
      const bool sp2 = L.scheme[m] == uint8_t(Scheme::Sp2);
      n8 += !sp2 && L.bits[m] == 8;
      EXPECT_TRUE(sp2 ? L.bits[m] == 4 : (L.bits[m] == 4 || L.bits[m] == 8));
      for (int64_t k = 0; k < K; ++k) {
        const int32_t v = L.row(m)[k];
        if (sp2) {
          ASSERT_TRUE(sp2_is_level(Sp2Format(4), v)) << m << " " << k;
        } else {
          ASSERT_TRUE(fixed_in_range(L.bits[m], v)) << m << " " << k;
        }
      }
      EXPECT_GE(L.rq_mult[m], 0);
      EXPECT_GE(L.rq_shift[m], 1);
      EXPECT_LE(L.rq_shift[m], 62);
    }
    EXPECT_EQ(n8, c.fixed8);
    EXPECT_GE(L.rel_err_sp2, 0.0);
    EXPECT_GE(L.rel_err_fixed, 0.0);
    const ActTensor& in = wl.inputs[i];
    EXPECT_EQ(in.b, 2);
    EXPECT_EQ(in.c, L.shape.in_c);
    EXPECT_EQ(in.h, L.shape.in_h);
    EXPECT_EQ(in.w, L.shape.in_w);
    ASSERT_EQ(in.data.size(), in.size());
    EXPECT_LE(*std::max_element(in.data.begin(), in.data.end()), 255);
  }
  // ReLU-like inputs: about half zeros, and the range is used.
  const ActTensor& in = wl.inputs[1];
  const double zeros = double(std::count(in.data.begin(), in.data.end(), 0)) / in.size();
  EXPECT_GT(zeros, 0.4);
  EXPECT_LT(zeros, 0.6);
  EXPECT_GT(*std::max_element(in.data.begin(), in.data.end()), 128);
}

TEST(WorkloadBuilder, TimingOnlyHasTheSameCountsAndNoData) {
  const auto shapes = testing_shapes::resnet18();
  WorkloadConfig w = cfg();
  w.fixed8_fraction = 0.1;
  w.sp2_fraction = 0.6;
  const Workload a = build_workload("r18", shapes, w, AccumulatorConfig{}, false);
  const auto smalls = small_net();
  const Workload b = build_workload("n", smalls, w, AccumulatorConfig{}, true);
  const Workload bt = build_workload("n", smalls, w, AccumulatorConfig{}, false);
  ASSERT_EQ(a.layers.size(), shapes.size());
  for (const QuantLayer& L : a.layers) {
    const SchemeCounts c = scheme_counts(L.shape.m(), 0.6, 0.1);
    EXPECT_EQ(count(L.scheme, uint8_t(Scheme::Sp2)), c.sp2);
    EXPECT_TRUE(L.weights.empty());
    EXPECT_TRUE(L.bias.empty());
  }
  for (const ActTensor& t : a.inputs) EXPECT_TRUE(t.data.empty());
  EXPECT_EQ(a.inputs[0].c, 3);
  EXPECT_EQ(a.inputs[0].h, 224);
  for (size_t i = 0; i < smalls.size(); ++i) {
    const QuantLayer &v = b.layers[i], &t = bt.layers[i];
    EXPECT_EQ(count(v.scheme, 1), count(t.scheme, 1));
    int64_t v8 = 0, t8 = 0;
    for (size_t m = 0; m < v.bits.size(); ++m) {
      v8 += v.scheme[m] == 0 && v.bits[m] == 8;
      t8 += t.scheme[m] == 0 && t.bits[m] == 8;
    }
    EXPECT_EQ(v8, t8);
    EXPECT_EQ(v.output, t.output);
  }
}

TEST(WorkloadBuilder, DeterministicAndIndependentOfOtherLayers) {
  const auto shapes = small_net();
  const WorkloadConfig w = cfg();
  const Workload a = build_workload("n", shapes, w, AccumulatorConfig{}, true);
  const Workload b = build_workload("n", shapes, w, AccumulatorConfig{}, true);
  WorkloadConfig only = w;
  only.layers = {"c", "a"};  // order of the list does not matter: network order is kept
  const Workload c = build_workload("n", shapes, only, AccumulatorConfig{}, true);
  ASSERT_EQ(c.layers.size(), 2u);
  EXPECT_EQ(c.layers[0].shape.name, "a");
  EXPECT_EQ(c.layers[1].shape.name, "c");
  for (size_t i = 0; i < shapes.size(); ++i) {
    EXPECT_EQ(a.layers[i].weights, b.layers[i].weights);
    EXPECT_EQ(a.layers[i].bias, b.layers[i].bias);
    EXPECT_EQ(a.inputs[i].data, b.inputs[i].data);
  }
  for (const auto& [ci, ai] : {std::pair<int, int>{0, 0}, {1, 2}}) {
    EXPECT_EQ(c.layers[ci].weights, a.layers[ai].weights);
    EXPECT_EQ(c.layers[ci].scheme, a.layers[ai].scheme);
    EXPECT_EQ(c.layers[ci].bits, a.layers[ai].bits);
    EXPECT_EQ(c.layers[ci].bias, a.layers[ai].bias);
    EXPECT_EQ(c.layers[ci].rq_mult, a.layers[ai].rq_mult);
    EXPECT_EQ(c.layers[ci].rq_shift, a.layers[ai].rq_shift);
    EXPECT_EQ(c.inputs[ci].data, a.inputs[ai].data);
    EXPECT_EQ(c.layers[ci].output, OutputKind::Activations);
  }
  WorkloadConfig other = w;
  other.seed = 43;
  const Workload d = build_workload("n", shapes, other, AccumulatorConfig{}, true);
  EXPECT_NE(d.layers[1].weights, a.layers[1].weights);
  EXPECT_NE(d.inputs[1].data, a.inputs[1].data);
  // Different layers of one network get different data.
  EXPECT_NE(a.layers[1].rq_mult, a.layers[2].rq_mult);
}

// A plain direct convolution: the calibration must make outputs use the activation range, with
// a good share clamped by the ReLU but few saturated.
TEST(WorkloadBuilder, RequantizationUsesTheRange) {
  const std::vector<LayerShape> shapes{conv("x", 16, 12, 64, 3, 1, 1)};
  WorkloadConfig w = cfg();
  w.batch = 1;
  const Workload wl = build_workload("n", shapes, w, AccumulatorConfig{}, true);
  const QuantLayer& L = wl.layers[0];
  const ActTensor& in = wl.inputs[0];
  const LayerShape& s = L.shape;
  int64_t zeros = 0, top = 0, total = 0, used_top = 0;
  for (int m = 0; m < s.out_c; ++m) {
    const int32_t* wr = L.row(m);
    for (int oy = 0; oy < s.out_h(); ++oy)
      for (int ox = 0; ox < s.out_w(); ++ox) {
        int64_t acc = L.bias[m];
        for (int c = 0; c < s.in_c; ++c)
          for (int i = 0; i < s.kh; ++i)
            for (int j = 0; j < s.kw; ++j) {
              const int y = oy * s.sh - s.ph + i, x = ox * s.sw - s.pw + j;
              if (y < 0 || y >= s.in_h || x < 0 || x >= s.in_w) continue;
              acc += int64_t(wr[(c * s.kh + i) * s.kw + j]) * in.at(0, c, y, x);
            }
        const int64_t y = requantize(acc, L.rq_mult[m], L.rq_shift[m], 8);
        zeros += y == 0;
        top += y == 255;
        used_top = std::max(used_top, y);
        ++total;
      }
  }
  const double fz = double(zeros) / total, ft = double(top) / total;
  std::printf("zeros %.3f, saturated %.4f, largest %lld\n", fz, ft, (long long)used_top);
  EXPECT_GT(fz, 0.25);
  EXPECT_LT(fz, 0.6);
  EXPECT_LT(ft, 0.02);
  EXPECT_GT(used_top, 128);
}

TEST(WorkloadBuilder, RejectsBadInput) {
  auto shapes = small_net();
  WorkloadConfig w = cfg();
  w.layers = {"nope"};
  EXPECT_THROW(build_workload("n", shapes, w, AccumulatorConfig{}, false), InputError);
  w.layers.clear();
  shapes[1].groups = 3;  // does not divide 16 input channels
  EXPECT_THROW(build_workload("n", shapes, w, AccumulatorConfig{}, true), InputError);
  shapes = small_net();
  shapes[0].kh = 40;  // larger than the padded input
  EXPECT_THROW(build_workload("n", shapes, w, AccumulatorConfig{}, true), InputError);
  shapes = small_net();
  w.sp2_fraction = 0.9;
  w.fixed8_fraction = 0.2;
  EXPECT_THROW(build_workload("n", shapes, w, AccumulatorConfig{}, false), std::invalid_argument);
  w = cfg();
  w.act_bits = 17;
  EXPECT_THROW(build_workload("n", shapes, w, AccumulatorConfig{}, false), std::invalid_argument);
}

// Prints the build time of ResNet-18 with values (the benchmark counts it); no timed assertion.
TEST(WorkloadBuilder, ResNet18WithValues) {
  const auto shapes = testing_shapes::resnet18();
  int64_t weights = 0, macs = 0;
  for (const auto& s : shapes) {
    weights += s.m() * s.k();
    macs += s.macs();
  }
  EXPECT_EQ(weights, 11678912);
  EXPECT_EQ(macs, 1814073344);
  WorkloadConfig w;  // defaults: r 0.5, 4-bit, 8-bit activations, batch 1
  const auto t0 = std::chrono::steady_clock::now();
  const Workload wl = build_workload("resnet18", shapes, w, AccumulatorConfig{}, true);
  const auto t1 = std::chrono::steady_clock::now();
  const Workload wt = build_workload("resnet18", shapes, w, AccumulatorConfig{}, false);
  const auto t2 = std::chrono::steady_clock::now();
  std::printf("ResNet-18 build: with values %.1f ms, timing only %.3f ms\n",
              std::chrono::duration<double, std::milli>(t1 - t0).count(),
              std::chrono::duration<double, std::milli>(t2 - t1).count());
  ASSERT_EQ(wl.layers.size(), shapes.size());
  EXPECT_EQ(wl.layers.back().output, OutputKind::Accumulators);
  for (size_t i = 0; i < shapes.size(); ++i)
    EXPECT_EQ(count(wl.layers[i].scheme, 1), count(wt.layers[i].scheme, 1));
}

}  // namespace
}  // namespace msq
