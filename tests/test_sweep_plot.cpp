// tools/plot_sweep.py on the CSV of a real tiny sweep. Debian's python3 with python3-matplotlib is
// a set-up requirement (tools/setup.sh): a missing one fails the test, it does not skip.
#include <filesystem>

#include "tests/support/sweep_fixture.h"

namespace {

using SweepPlot = msq::testing::SweepDir;

TEST_F(SweepPlot, WritesFractionAndParetoPlotsAsPngAndSvg) {
  const auto probe = shell("/usr/bin/python3 -c 'import matplotlib, numpy'");
  ASSERT_EQ(probe.code, 0)
      << "/usr/bin/python3 with matplotlib and numpy is required (tools/setup.sh "
         "installs python3-matplotlib): "
      << probe.err;
  sweep("tiny.yaml",
        "set:\n  workload.layers: [layer3.1.conv1]\n"
        "axes:\n  device: [xc7z020, xc7z045]\n  workload.sp2_fraction: {from: 0, to: 1, step: "
        "0.25}\n");
  const auto s = msqsim("sweep tiny.yaml --jobs 2");
  ASSERT_EQ(s.code, 0) << s.err;
  const auto p =
      shell("/usr/bin/python3 '" MSQ_SOURCE_DIR "/tools/plot_sweep.py' tiny.csv --out-dir plots");
  ASSERT_EQ(p.code, 0) << p.err;
  for (const char* name :
       {"tiny_fraction.png", "tiny_fraction.svg", "tiny_pareto.png", "tiny_pareto.svg"}) {
    const std::string f = path(std::string("plots/") + name);
    ASSERT_TRUE(std::filesystem::exists(f)) << f;
    EXPECT_GT(std::filesystem::file_size(f), 1000u) << f;
  }
  EXPECT_EQ(read(path("plots/tiny_fraction.png")).substr(1, 3), "PNG");
  EXPECT_NE(read(path("plots/tiny_pareto.svg")).find("<svg"), std::string::npos);
}

}  // namespace
