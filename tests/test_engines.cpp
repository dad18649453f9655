// The engine registry: the top builds its engines from the config's `impl` names, refuses names
// it does not know and engine lists the planner cannot feed yet.
#include <gtest/gtest.h>

#include "models/accelerator.h"
#include "models/error.h"
#include "models/hw/engine.h"
#include "models/hw/engine_registry.h"
#include "models/tiler.h"
#include "tests/support/random_layers.h"

using namespace msq;
using namespace msq::testing;

namespace {

Workload one_layer() {
  Workload wl;
  RandomLayerSpec sp;
  sp.shape = conv("c3", 8, 6, 16, 3, 1, 1);
  wl.layers.push_back(random_layer(sp, 1));
  wl.inputs.push_back(random_input(sp.shape, 8, 2));
  return wl;
}

std::string simulate_error(const RunConfig& c) {
  try {
    simulate(c, one_layer(), SimOptions{});
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Engines, RegistryBuildsEachKindByItsImplName) {
  ASSERT_NE(find_engine_kind("lut_sp2"), nullptr);
  ASSERT_NE(find_engine_kind("dsp48"), nullptr);
  EXPECT_EQ(find_engine_kind("lut_sp3"), nullptr);
  Fabric f;
  Buffer w0("w0", 4096), w1("w1", 4096);
  AcceleratorConfig a;
  a.dsp_core.rows = 3, a.dsp_core.cols = 5, a.dsp_core.packing = true;
  const std::vector<EngineSpec> specs = engine_specs(a);
  const auto lut = make_engine(EngineContext{f, 0, w0, specs[0], a});
  const auto dsp = make_engine(EngineContext{f, 1, w1, specs[1], a});
  EXPECT_STREQ(lut->impl(), "lut_sp2");
  EXPECT_STREQ(dsp->impl(), "dsp48");
  EXPECT_STREQ(lut->engine_name(), "lut_core");
  EXPECT_EQ(lut->slot(), 0);
  EXPECT_EQ(dsp->slot(), 1);
  EXPECT_TRUE(lut->caps().sp2);
  EXPECT_FALSE(lut->caps().fixed);
  EXPECT_TRUE(lut->caps().home_sp2);
  EXPECT_TRUE(dsp->caps().fixed);
  EXPECT_TRUE(dsp->caps().home_fixed);
  EXPECT_FALSE(dsp->caps().home_sp2);
  EXPECT_TRUE(dsp->caps().packing);
  EXPECT_EQ(lut->peak_macs_per_cycle(), int64_t(a.lut_core.rows) * a.lut_core.cols);
  EXPECT_EQ(dsp->peak_macs_per_cycle(), 3 * 5 * 2);
}

TEST(Engines, UnknownImplNamesTheKnownOnes) {
  RunConfig c;
  c.accelerator.engines = engine_specs(c.accelerator);
  c.accelerator.engines[1].impl = "dsp58";
  const std::string e = simulate_error(c);
  EXPECT_NE(e.find("unknown impl 'dsp58'"), std::string::npos) << e;
  EXPECT_NE(e.find("known: lut_sp2, dsp48"), std::string::npos) << e;
}

TEST(Engines, EnginesInAnyOrderGetTheSameRows) {
  RunConfig c;
  const Workload wl = one_layer();
  const LayerPlan a = plan_layer(wl.layers[0], c, "c3");
  const std::vector<EngineSpec> two = engine_specs(c.accelerator);
  c.accelerator.engines = {two[1], two[0]};
  const LayerPlan b = plan_layer(wl.layers[0], c, "c3");
  ASSERT_EQ(a.engines.size(), 2u);
  EXPECT_GT(a.engines[0].rows, 0);
  EXPECT_GT(a.engines[1].rows, 0);
  EXPECT_EQ(a.engines[0].rows, b.engines[1].rows);
  EXPECT_EQ(a.engines[1].rows, b.engines[0].rows);
  EXPECT_EQ(a.engines[1].blocks.size(), b.engines[0].blocks.size());
  EXPECT_EQ(a.chain, b.chain);
}
