// tools/plot_sweep.py on the CSV of a real tiny sweep. Debian's python3 with python3-matplotlib is
// a set-up requirement (tools/setup.sh): a missing one fails the test, it does not skip.
#include <filesystem>
#include <map>
#include <vector>

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

TEST_F(SweepPlot, FrontsArePerNetworkAndAgreeWithTheSweepsSummary) {
  // Across networks the smaller one would dominate every point of the larger one; per network,
  // each has its own front, and the plot's fronts are the ones msqsim sweep wrote.
  sweep("nets.yaml",
        "axes:\n  workload.network: [resnet18, mobilenet_v2]\n"
        "  workload.sp2_fraction: [0.3, 0.6]\n  accelerator.lut_core.rows: [16, 32]\n");
  const auto s = msqsim("sweep nets.yaml --jobs 2");
  ASSERT_EQ(s.code, 0) << s.err;
  std::map<std::string, std::vector<std::string>> ids;  // network -> front ids, in id order
  for (const auto& row : SweepPlot::rows(path("nets.pareto.csv")))
    ids[row.at("workload.network")].push_back(row.at("id"));
  ASSERT_EQ(ids.size(), 2u) << "a front per network";
  const auto p = shell("/usr/bin/python3 '" MSQ_SOURCE_DIR "/tools/plot_sweep.py' nets.csv");
  ASSERT_EQ(p.code, 0) << p.err;
  for (const auto& [net, list] : ids) {
    std::string want = "Pareto front for workload.network=" + net + ": " +
                       std::to_string(list.size()) + " of 4 points (ids ";
    for (size_t i = 0; i < list.size(); ++i) want += (i ? ", " : "") + list[i];
    EXPECT_NE(p.out.find(want + ")\n"), std::string::npos) << want << "\n" << p.out;
  }
}

}  // namespace
