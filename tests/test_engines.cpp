// The engine registry: the top builds its engines from the config's `impl` names, refuses names
// it does not know and engine lists the planner cannot feed yet.
#include <gtest/gtest.h>

#include "models/accelerator.h"
#include "models/error.h"
#include "models/hw/engine_registry.h"
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
  const auto lut = make_engine("lut_sp2", "lut_core", EngineContext{f, kLut, w0, a});
  const auto dsp = make_engine("dsp48", "dsp_core", EngineContext{f, kDsp, w1, a});
  EXPECT_STREQ(lut->impl(), "lut_sp2");
  EXPECT_STREQ(dsp->impl(), "dsp48");
  EXPECT_EQ(lut->slot(), kLut);
  EXPECT_EQ(dsp->slot(), kDsp);
  EXPECT_TRUE(lut->caps().sp2);
  EXPECT_FALSE(lut->caps().fixed);
  EXPECT_TRUE(dsp->caps().fixed);
  EXPECT_TRUE(dsp->caps().packing);
  EXPECT_EQ(lut->peak_macs_per_cycle(), int64_t(a.lut_core.rows) * a.lut_core.cols);
  EXPECT_EQ(dsp->peak_macs_per_cycle(), 3 * 5 * 2);
}

TEST(Engines, UnknownImplNamesTheKnownOnes) {
  RunConfig c;
  c.accelerator.engines[1].impl = "dsp58";
  const std::string e = simulate_error(c);
  EXPECT_NE(e.find("unknown impl 'dsp58'"), std::string::npos) << e;
  EXPECT_NE(e.find("known: lut_sp2, dsp48"), std::string::npos) << e;
}

TEST(Engines, AnEngineThatCannotRunItsSlotsRowsIsRefused) {
  Fabric f;
  Buffer w("w", 4096);
  const AcceleratorConfig a;
  try {
    make_engine("lut_sp2", "lut_core", EngineContext{f, kDsp, w, a});
    FAIL() << "lut_sp2 accepted the fixed-point slot";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("the second engine runs the fixed-point rows, and "
                                         "lut_sp2 cannot"),
              std::string::npos)
        << e.what();
  }
}

TEST(Engines, EnginesInAnotherOrderAreNotSupportedYet) {
  RunConfig c;
  c.accelerator.engines = {{"dsp48", "dsp_core"}, {"lut_sp2", "lut_core"}};
  const std::string e = simulate_error(c);
  EXPECT_NE(e.find("accelerator.engines: [dsp48, lut_sp2]"), std::string::npos) << e;
  EXPECT_NE(e.find("not supported yet"), std::string::npos) << e;
}

TEST(Engines, OtherThanTwoEnginesIsNotSupportedYet) {
  RunConfig c;
  c.accelerator.engines.push_back({"dsp48", "dsp_core2"});
  const std::string e = simulate_error(c);
  EXPECT_NE(e.find("3 engines listed; only two"), std::string::npos) << e;
}
