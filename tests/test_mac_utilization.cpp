// MAC utilization next to busy share: a hand-computed single layer, and the properties every
// layer of the examples must have (a core cannot do more MACs than its busy cycles allow).
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "tests/support/cli_fixture.h"

using msq::testing::CliTest;
using msq::testing::Result;
using nlohmann::json;

namespace {

class MacUtil : public CliTest {
 protected:
  json run_json(const std::string& args) {
    const Result r = run(args + " --json r.json");
    EXPECT_EQ(r.code, 0) << r.err;
    return read_json("r.json");
  }
  // One fully connected layer: M = 20 rows, K = 64, N = 1 (batch 1). LUT core 8x8, DSP core 4x8.
  std::string fc_config(const std::string& fraction, bool packing = true) {
    write("fc.yaml",
          "name: fc1\nsource: test\nlayers:\n"
          "  - {name: fc, type: fc, input: 64, out_channels: 20}\n");
    return write("c.yaml",
                 std::string("device: xc7z020\nclock_mhz: 100\naccelerator:\n") +
                     "  lut_core: {rows: 8, cols: 8, pipeline_depth: 4}\n" +
                     "  dsp_core: {rows: 4, cols: 8, packing: " + (packing ? "true" : "false") +
                     "}\nworkload: {network: fc.yaml, sp2_fraction: " + fraction + "}\n");
  }
};

TEST_F(MacUtil, HandComputedSingleLayerOnTheLutCore) {
  const json j = run_json("run '" + fc_config("1.0") + "' --no-verify");
  const json& l = j["layers"][0];
  ASSERT_EQ(l["rows"]["lut_core"].get<int64_t>(), 20);  // all rows SP2, no spill
  ASSERT_EQ(l["tiling"]["k_tiles"].get<int64_t>(), 1);
  ASSERT_EQ(l["tiling"]["tiles"].get<int64_t>(), 1);
  // Row blocks of 8, 8 and 4 rows; each job: ceil(tn / cols) * tk + pipeline = 1 * 64 + 4.
  EXPECT_EQ(l["lut_core"]["jobs"].get<int64_t>(), 3);
  EXPECT_EQ(l["lut_core_busy_cycles"].get<int64_t>(), 3 * (64 + 4));
  // The real rows' MACs: 20 x 64 x 1, not the padded 3 x 8 x 64 x 1.
  EXPECT_EQ(l["lut_core"]["macs"].get<int64_t>(), 20 * 64);
  EXPECT_EQ(l["dsp_core"]["macs"].get<int64_t>(), 0);
  // Peaks: LUT 8 x 8; DSP 4 x 8 x 2 (packing on).
  EXPECT_EQ(j["total"]["peak_macs_per_cycle"]["lut_core"].get<int64_t>(), 64);
  EXPECT_EQ(j["total"]["peak_macs_per_cycle"]["dsp_core"].get<int64_t>(), 64);
  const int64_t cycles = l["cycles"].get<int64_t>();
  ASSERT_GT(cycles, 204);  // the busy cycles plus the DRAM transfers around them
  EXPECT_DOUBLE_EQ(l["lut_core_mac_utilization"].get<double>(), 1280.0 / (double(cycles) * 64));
  EXPECT_DOUBLE_EQ(l["lut_core_busy_share"].get<double>(), 204.0 / double(cycles));
  EXPECT_DOUBLE_EQ(l["mac_utilization"].get<double>(), 1280.0 / (double(cycles) * 128));
  EXPECT_DOUBLE_EQ(l["dsp_core_mac_utilization"].get<double>(), 0.0);
  // One layer: the totals are the layer's; the contract's busy share is unchanged.
  EXPECT_EQ(j["total"]["cycles"].get<int64_t>(), cycles);
  EXPECT_DOUBLE_EQ(j["total"]["lut_core_mac_utilization"].get<double>(),
                   1280.0 / (double(cycles) * 64));
  EXPECT_DOUBLE_EQ(j["total"]["mac_utilization"].get<double>(), 1280.0 / (double(cycles) * 128));
  EXPECT_DOUBLE_EQ(j["total"]["lut_core_utilization"].get<double>(), 204.0 / double(cycles));
}

TEST_F(MacUtil, DspPeakDoublesWithPacking) {
  for (bool packing : {true, false}) {
    const json j = run_json("run '" + fc_config("0.0", packing) + "' --no-verify");
    const json& l = j["layers"][0];
    const int64_t peak = packing ? 64 : 32;
    EXPECT_EQ(j["total"]["peak_macs_per_cycle"]["dsp_core"].get<int64_t>(), peak);
    EXPECT_EQ(l["dsp_core"]["macs"].get<int64_t>(), 20 * 64);
    EXPECT_DOUBLE_EQ(l["dsp_core_mac_utilization"].get<double>(),
                     1280.0 / (double(l["cycles"].get<int64_t>()) * double(peak)));
  }
}

TEST_F(MacUtil, TerminalAndCsvLabelBusyAndMacColumnsApart) {
  const Result r = run("run '" + fc_config("0.5") + "' --no-verify --csv r.csv");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* s : {"LUT busy%", "LUT MAC%", "DSP busy%", "DSP MAC%", "% MAC utilization"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  const std::string csv = read(path("r.csv"));
  const std::string header = csv.substr(0, csv.find('\n'));
  for (const char* s : {"lut_core_busy_share", "lut_core_mac_utilization", "dsp_core_busy_share",
                        "dsp_core_mac_utilization", "mac_utilization", "lut_core_macs"})
    EXPECT_NE(header.find(s), std::string::npos) << s;
}

class MacUtilExamples : public MacUtil, public ::testing::WithParamInterface<std::string> {};

// A core executes at most its peak per busy cycle, so per core MAC utilization <= busy share, and
// both cores together stay under the busier one's share. Every MAC of a layer runs on one core.
TEST_P(MacUtilExamples, NeverAboveBusyShare) {
  const json j = run_json("run '" + std::string(MSQ_SOURCE_DIR) + "/configs/examples/" +
                          GetParam() + "' --no-verify --allow-overfull");
  ASSERT_FALSE(j["layers"].empty());
  for (const json& l : j["layers"]) {
    const std::string n = l["name"];
    EXPECT_EQ(l["lut_core"]["macs"].get<int64_t>() + l["dsp_core"]["macs"].get<int64_t>(),
              l["macs"].get<int64_t>())
        << n;
    const double lb = l["lut_core_busy_share"], db = l["dsp_core_busy_share"];
    const double lm = l["lut_core_mac_utilization"], dm = l["dsp_core_mac_utilization"];
    EXPECT_LE(lm, lb + 1e-12) << n;
    EXPECT_LE(dm, db + 1e-12) << n;
    EXPECT_LE(l["mac_utilization"].get<double>(), std::max(lb, db) + 1e-12) << n;
    EXPECT_GT(l["mac_utilization"].get<double>(), 0.0) << n;
  }
  const json& t = j["total"];
  EXPECT_LE(t["lut_core_mac_utilization"].get<double>(), t["lut_core_utilization"].get<double>());
  EXPECT_LE(t["dsp_core_mac_utilization"].get<double>(), t["dsp_core_utilization"].get<double>());
  EXPECT_EQ(t["lut_core_macs"].get<int64_t>() + t["dsp_core_macs"].get<int64_t>(),
            t["macs"].get<int64_t>());
}
INSTANTIATE_TEST_SUITE_P(Configs, MacUtilExamples,
                         ::testing::Values("default.yaml", "pynq_z2_mobilenet.yaml",
                                           "zcu102_resnet50.yaml", "msd_like_bitserial.yaml",
                                           "dsp_actpack.yaml"),
                         [](const auto& info) {
                           std::string n = info.param.substr(0, info.param.find('.'));
                           for (char& c : n)
                             if (!isalnum(c)) c = '_';
                           return n;
                         });

}  // namespace
