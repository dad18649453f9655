// The planner's estimates (spill, per-layer balance, mapping search) follow each engine kind's
// rate: a bit-serial LUT array takes two cycles per SP2 weight, an activation-packed DSP array
// covers two columns per slice. Ranked as bit-parallel and unpacked arrays, an MSD design kept
// its LUT array at 69% of the rows and ran 1.4x MSD's cycles (docs/msd.md).
#include <gtest/gtest.h>

#include "models/plan/mapper.h"
#include "models/tiler.h"
#include "tests/support/random_layers.h"

using namespace msq;
using namespace msq::testing;

namespace {

RunConfig design(const char* lut, const char* dsp) {
  RunConfig c;
  c.device.dsp_kind = DspKind::DSP48E2;
  c.accelerator.lut_core = {16, 16, 1};
  c.accelerator.dsp_core.rows = 8;
  c.accelerator.dsp_core.cols = 8;
  c.accelerator.dsp_core.pipeline_depth = 1;
  c.accelerator.engines = {lut_engine_spec(c.accelerator.lut_core),
                           dsp_engine_spec(c.accelerator.dsp_core)};
  c.accelerator.engines[0].impl = lut, c.accelerator.engines[1].impl = dsp;
  c.accelerator.scheduler.spill = true;
  return c;
}

QuantLayer sp2_layer() {
  RandomLayerSpec sp;
  sp.shape.name = "conv";
  sp.shape.in_c = 32, sp.shape.in_h = 16, sp.shape.in_w = 16, sp.shape.out_c = 64;
  sp.shape.kh = sp.shape.kw = 3, sp.shape.ph = sp.shape.pw = 1;
  sp.sp2_fraction = 1.0;
  sp.bits = 4;
  return random_layer(sp, 3);
}

}  // namespace

TEST(EngineRate, EachKindsColumnsAndCyclesPerStep) {
  const RunConfig a = design("lut_sp2", "dsp48");
  const RunConfig b = design("lut_sp2_bitserial", "dsp48_actpack");
  EXPECT_EQ(engine_rate(a.accelerator, 0).cols, 16);
  EXPECT_EQ(engine_rate(a.accelerator, 0).cycles_per_k, 1);
  EXPECT_EQ(engine_rate(b.accelerator, 0).cols, 16);
  EXPECT_EQ(engine_rate(b.accelerator, 0).cycles_per_k, 2);
  EXPECT_EQ(engine_rate(a.accelerator, 1).cols, 8);
  EXPECT_EQ(engine_rate(b.accelerator, 1).cols, 16);
  RunConfig off = b;
  off.accelerator.engines[1].packing = false;
  EXPECT_EQ(engine_rate(off.accelerator, 1).cols, 8);
}

// The same arrays: a bit-serial LUT array is half as fast, so the balance moves more SP2 rows to
// the DSP array than with a bit-parallel one.
TEST(EngineRate, SpillMovesMoreRowsOffABitSerialArray) {
  const QuantLayer L = sp2_layer();
  const LayerPlan par = plan_layer(L, design("lut_sp2", "dsp48_actpack"), "conv");
  const LayerPlan ser = plan_layer(L, design("lut_sp2_bitserial", "dsp48_actpack"), "conv");
  EXPECT_GT(ser.spilled_rows, par.spilled_rows)
      << "bit-parallel " << par.spilled_rows << ", bit-serial " << ser.spilled_rows;
  EXPECT_GT(ser.engines[1].rows, ser.engines[0].rows / 2);
}

// The mapping estimate charges a bit-serial array two cycles per step of the same plan.
TEST(EngineRate, MappingEstimateCountsTheDigits) {
  const QuantLayer L = sp2_layer();
  RunConfig par = design("lut_sp2", "dsp48_actpack");
  par.accelerator.scheduler.spill = false;
  RunConfig ser = par;
  ser.accelerator.engines[0].impl = "lut_sp2_bitserial";
  const LayerPlan p = plan_layer(L, par, "conv");
  const MappingEstimate a = estimate_plan(p, L, par);
  const MappingEstimate b = estimate_plan(p, L, ser);
  ASSERT_GT(a.compute_cycles[0], 0);
  const int64_t pipe = b.compute_cycles[0] - 2 * a.compute_cycles[0];
  EXPECT_LT(std::abs(pipe), a.compute_cycles[0] / 10)
      << a.compute_cycles[0] << " " << b.compute_cycles[0];
}
