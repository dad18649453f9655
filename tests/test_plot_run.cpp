// tools/plot_run.py on the JSON report of a real small run, and on reports it cannot plot.
// Debian's python3 with python3-matplotlib is a set-up requirement (tools/setup.sh): a missing
// one fails the test, it does not skip.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/cli_fixture.h"

using msq::testing::CliTest;
using msq::testing::Result;

namespace {

class PlotRun : public CliTest {
 protected:
  Result plot(const std::string& args) {
    return shell("/usr/bin/python3 '" MSQ_SOURCE_DIR "/tools/plot_run.py' " + args);
  }
};

TEST_F(PlotRun, WritesLayerAndRooflinePlotsAsPngAndSvg) {
  const Result probe = shell("/usr/bin/python3 -c 'import matplotlib'");
  ASSERT_EQ(probe.code, 0) << "/usr/bin/python3 with matplotlib is required (tools/setup.sh "
                              "installs python3-matplotlib): "
                           << probe.err;
  const Result r = run("run '" MSQ_SOURCE_DIR
                       "/configs/examples/default.yaml' --no-verify --set "
                       "'workload.layers=[conv1, layer2.0.downsample, fc]' --json small.json");
  ASSERT_EQ(r.code, 0) << r.err;
  const Result p = plot("small.json --out-dir plots");
  ASSERT_EQ(p.code, 0) << p.err;
  for (const char* name :
       {"small_layers.png", "small_layers.svg", "small_roofline.png", "small_roofline.svg"}) {
    const std::string f = path(std::string("plots/") + name);
    ASSERT_TRUE(std::filesystem::exists(f)) << f;
    EXPECT_GT(std::filesystem::file_size(f), 1000u) << f;
    EXPECT_NE(p.out.find(name), std::string::npos) << p.out;
  }
  EXPECT_EQ(read(path("plots/small_layers.png")).substr(1, 3), "PNG");
  EXPECT_NE(read(path("plots/small_roofline.svg")).find("<svg"), std::string::npos);
  // The layer names are on the plot.
  EXPECT_NE(read(path("plots/small_layers.svg")).find("downsample"), std::string::npos);
}

TEST_F(PlotRun, ReportWithoutTheFieldsIsRefusedClearly) {
  write("old.json", R"({"total": {"cycles": 10}, "config": {"clock_mhz": 100},
                        "layers": [{"name": "conv1", "cycles": 10, "macs": 5}]})");
  const Result p = plot("old.json");
  EXPECT_EQ(p.code, 2);
  EXPECT_NE(p.err.find("plot_run: old.json: missing total.peak_macs_per_cycle"), std::string::npos)
      << p.err;
  EXPECT_EQ(p.err.find("Traceback"), std::string::npos) << p.err;
  EXPECT_FALSE(std::filesystem::exists(path("old_layers.png")));

  write("notjson.json", "layer,cycles\n");
  const Result q = plot("notjson.json");
  EXPECT_EQ(q.code, 2);
  EXPECT_NE(q.err.find("not JSON"), std::string::npos) << q.err;
  const Result m = plot("missing.json");
  EXPECT_EQ(m.code, 2);
  EXPECT_NE(m.err.find("cannot read it"), std::string::npos) << m.err;
}

}  // namespace
