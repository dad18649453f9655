// The golden traces of tests/traces/ hold what they claim to: each case its shape, the
// overflowing accumulators really overflow, the packed layer really needs its drains. (ctest's
// regress.<name> cases replay them; this checks that they are worth replaying.)
#include <gtest/gtest.h>

#include <filesystem>

#include "models/arith/packed_dsp.h"
#include "models/functional_model.h"
#include "models/tiler.h"
#include "sim/config_loader.h"
#include "sim/trace.h"

namespace msq {
namespace {

namespace fs = std::filesystem;
const std::string kDir = std::string(MSQ_SOURCE_DIR) + "/tests/traces/";

QuantLayer only_layer(const Trace& t) {
  EXPECT_EQ(t.layers.size(), 1u);
  return t.layers.at(0).layer;
}

TEST(GoldenTraces, EachIsSmallRecordedAndConsistentWithTheFunctionalModel) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(kDir)) {
    if (!fs::exists(e.path() / "trace.yaml")) continue;
    ++n;
    uintmax_t bytes = 0;
    for (const auto& f : fs::recursive_directory_iterator(e.path()))
      if (f.is_regular_file()) bytes += f.file_size();
    EXPECT_LT(bytes, 100u * 1024) << e.path();
    const Trace t = read_trace(e.path().string());
    EXPECT_TRUE(t.config.IsMap()) << e.path() << ": ctest replays it without --config";
    for (const TraceLayer& l : t.layers) {
      EXPECT_GE(l.expected_cycles, 0) << e.path();
      const FunctionalResult f = run_functional(l.layer, l.input);
      EXPECT_EQ(f.out.data, l.expected.data) << e.path();
    }
  }
  EXPECT_EQ(n, 11);
}

TEST(GoldenTraces, ShapesCoverTheCases) {
  auto shape = [](const char* name) { return only_layer(read_trace(kDir + name)).shape; };
  const LayerShape s1 = shape("conv3x3_s1"), s2 = shape("conv3x3_s2"), p = shape("conv1x1"),
                   dw = shape("dw3x3"), fc = shape("fc");
  EXPECT_TRUE(s1.kh == 3 && s1.kw == 3 && s1.sh == 1 && s1.groups == 1);
  EXPECT_TRUE(s2.kh == 3 && s2.sh == 2 && s2.sw == 2);
  EXPECT_TRUE(p.kh == 1 && p.kw == 1);
  EXPECT_TRUE(dw.kh == 3 && dw.groups == dw.in_c && dw.groups == dw.out_c);
  EXPECT_EQ(fc.type, LayerType::Fc);
  EXPECT_EQ(only_layer(read_trace(kDir + "fc")).output, OutputKind::Accumulators);
  const QuantLayer mp = only_layer(read_trace(kDir + "mixed_prec"));
  int wide = 0, sp2 = 0;
  for (size_t m = 0; m < mp.bits.size(); ++m) wide += mp.bits[m] == 8, sp2 += mp.scheme[m] == 1;
  EXPECT_GT(wide, 0);
  EXPECT_GT(sp2, 0);
}

TEST(GoldenTraces, SixteenBitAccumulatorsOverflow) {
  for (const char* name : {"acc16_wrap", "acc16_saturate"}) {
    const Trace t = read_trace(kDir + name);
    const TraceLayer& l = t.layers.at(0);
    EXPECT_EQ(l.layer.acc_bits, 16) << name;
    EXPECT_EQ(l.layer.overflow,
              std::string(name) == "acc16_wrap" ? Overflow::Wrap : Overflow::Saturate);
    EXPECT_GT(run_functional(l.layer, l.input).overflows, 10u) << name;
  }
}

TEST(GoldenTraces, PackedLanesCollideWithoutDrainingAndThePlanDrains) {
  const Trace t = read_trace(kDir + "packed_drain");
  const TraceLayer& l = t.layers.at(0);
  const RunConfig cfg = load_run_config_node(t.config, "packed_drain", kDir + "packed_drain", {});
  const LayerPlan p = plan_layer(l.layer, cfg, "packed_drain");
  ASSERT_TRUE(p.packing) << p.packing_note;
  const int64_t K = l.layer.shape.k();
  EXPECT_GE(K, 20 * p.chain);  // many drains per output, not one at the end
  EXPECT_GT(p.tk, p.chain);    // within each job, not only between k tiles
  EXPECT_GT(dsp_job_cycles(cfg.accelerator.dsp_core, 1, p.tk, true, p.chain),
            dsp_job_cycles(cfg.accelerator.dsp_core, 1, p.tk, false, 0));

  // Without draining, one packed accumulator over all of K: some lane comes out wrong.
  const RowBlock* packed = nullptr;
  for (const RowBlock& b : p.dsp_blocks)
    if (b.packed && b.rows.size() >= 2) packed = &b;
  ASSERT_NE(packed, nullptr);
  const LayerShape& s = l.layer.shape;
  const int32_t hi_row = packed->rows[0], lo_row = packed->rows[1];
  int wrong = 0;
  for (int y = 0; y < s.out_h(); ++y)
    for (int x = 0; x < s.out_w(); ++x) {
      PackedAccumulator acc(dsp_geometry(cfg.device.dsp_kind), p.lane_offset);
      int64_t exact_lo = 0, exact_hi = 0;
      for (int c = 0; c < s.in_c; ++c)
        for (int i = 0; i < s.kh; ++i)
          for (int j = 0; j < s.kw; ++j) {
            const int iy = y - s.ph + i, ix = x - s.pw + j;
            const uint32_t a =
                iy < 0 || ix < 0 || iy >= s.in_h || ix >= s.in_w ? 0 : l.input.at(0, c, iy, ix);
            const int64_t k = (int64_t(c) * s.kh + i) * s.kw + j;
            const int32_t wh = l.layer.row(hi_row)[k], wl = l.layer.row(lo_row)[k];
            acc.mac(wh, wl, a);
            exact_hi += int64_t(wh) * a, exact_lo += int64_t(wl) * a;
          }
      wrong += acc.lo() != exact_lo || acc.hi() != exact_hi;
    }
  EXPECT_GT(wrong, 0);
}

}  // namespace
}  // namespace msq
