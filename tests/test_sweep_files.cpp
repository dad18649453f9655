// The shipped sweep files and examples against the shipped resource costs: a cost change that
// pushes a sweep's arrays past its device would otherwise only show as a sweep that skips all its
// points. Every point of every file in configs/sweeps/ is loaded and priced as `msqsim sweep`
// does before it simulates anything; none may be rejected by the file's constraints unless the
// file's header says how many are meant to be ("# Expected not to fit: N of the M points"), as
// a sweep that shows where a device ends does.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "models/error.h"
#include "models/resource_model.h"
#include "sim/config_loader.h"
#include "sim/sweep.h"

namespace {

namespace fs = std::filesystem;

std::vector<std::string> yaml_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".yaml") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

// The sweep's own rule (docs/sweeps.md, constraints:): "" when the point would be simulated.
std::string rejection(const msq::ResourceEstimate& e, const msq::SweepConstraints& c) {
  if (c.fits && !e.fits()) return e.overfull_message();
  const auto pct = [](int64_t used, int64_t avail) {
    return avail > 0 ? 100.0 * double(used) / double(avail) : 0.0;
  };
  if (c.max_lut_percent >= 0 && pct(e.lut, e.lut_avail) > c.max_lut_percent)
    return "LUT " + std::to_string(pct(e.lut, e.lut_avail)) + "% > max_lut_percent";
  if (c.max_dsp_percent >= 0 && pct(e.dsp, e.dsp_avail) > c.max_dsp_percent)
    return "DSP " + std::to_string(pct(e.dsp, e.dsp_avail)) + "% > max_dsp_percent";
  return "";
}

struct Expected {
  bool stated = false;
  size_t not_fitting = 0, of = 0;
};

Expected expected_not_fitting(const std::string& file) {
  std::ifstream in(file);
  const std::regex re(R"(^#.*Expected not to fit: (\d+) of the (\d+) points)");
  std::string line;
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_search(line, m, re)) return {true, std::stoul(m[1]), std::stoul(m[2])};
  return {};
}

class ShippedFiles : public ::testing::Test {
 protected:
  // The shipped default costs, whatever the developer's shell selects.
  void SetUp() override { unsetenv("MSQSIM_RESOURCE_COSTS"); }
};

TEST_F(ShippedFiles, EverySweepPointFitsItsDeviceUnlessTheFileSaysOtherwise) {
  const msq::ResourceCosts costs = msq::load_resource_costs(msq::default_resource_costs_path());
  const auto files = yaml_files(MSQ_SOURCE_DIR "/configs/sweeps");
  ASSERT_GE(files.size(), 4u);
  for (const auto& file : files) {
    SCOPED_TRACE(file);
    const msq::SweepSpec spec = msq::load_sweep(file);
    const size_t n = msq::sweep_size(spec);
    std::vector<std::string> rejected;
    for (size_t id = 0; id < n; ++id) {
      std::string why;
      try {
        const msq::RunConfig cfg = msq::load_run_config(spec.base, msq::point_sets(spec, id));
        why = rejection(msq::estimate_resources(cfg, costs), spec.constraints);
      } catch (const msq::InputError& e) {
        ADD_FAILURE() << "point " << id << " does not load: " << e.what();
        continue;
      }
      if (!why.empty()) rejected.push_back("point " + std::to_string(id) + ": " + why);
    }
    std::ostringstream list;
    for (const auto& r : rejected) list << "\n  " << r;
    const Expected want = expected_not_fitting(file);
    if (!want.stated) {
      EXPECT_TRUE(rejected.empty())
          << rejected.size() << " of " << n << " points would be skipped for resources; resize "
          << "the arrays, or state '# Expected not to fit: N of the M points' in the header:"
          << list.str();
    } else {
      EXPECT_EQ(want.of, n) << "the header's point count";
      EXPECT_EQ(want.not_fitting, rejected.size())
          << "the header's count of points that do not fit:" << list.str();
      EXPECT_LT(rejected.size(), n) << "no point of the sweep would run";
    }
  }
}

TEST_F(ShippedFiles, EveryExampleFitsItsDevice) {
  const msq::ResourceCosts costs = msq::load_resource_costs(msq::default_resource_costs_path());
  const auto files = yaml_files(MSQ_SOURCE_DIR "/configs/examples");
  ASSERT_GE(files.size(), 1u);
  for (const auto& file : files) {
    const msq::ResourceEstimate e = msq::estimate_resources(msq::load_run_config(file, {}), costs);
    EXPECT_TRUE(e.fits()) << file << ": " << e.overfull_message();
  }
}

}  // namespace
