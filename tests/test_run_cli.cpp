// msqsim run through the executable: the examples verify, the JSON report keeps its contract, bad
// designs and failed checks give the right exit codes and leave no report behind.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/cli_fixture.h"

using msq::testing::CliTest;
using msq::testing::Result;
using nlohmann::json;

namespace {

class Run : public CliTest {
 protected:
  json read_json(const std::string& name) {
    std::ifstream in(dir_ + "/" + name);
    return json::parse(in);
  }
  bool exists(const std::string& name) { return std::filesystem::exists(dir_ + "/" + name); }
  // A small network so that tests run fast.
  std::string tiny_network() {
    return write("tiny.yaml",
                 "name: tiny\nsource: test\nlayers:\n"
                 "  - {name: c1, type: conv, input: [16, 12, 12], out_channels: 32, kernel: 3, "
                 "stride: 1, padding: 1}\n"
                 "  - {name: c2, type: conv, input: [32, 12, 12], out_channels: 32, kernel: 3, "
                 "stride: 2, padding: 1}\n"
                 "  - {name: fc, type: fc, input: 288, out_channels: 10}\n");
  }
  std::string tiny_config(const std::string& extra = "") {
    tiny_network();
    return write("c.yaml",
                 "device: xc7z020\nclock_mhz: 100\naccelerator:\n  lut_core: {rows: 8, cols: 8}\n"
                 "  dsp_core: {rows: 4, cols: 8}\n" +
                     extra + "workload: {network: tiny.yaml, sp2_fraction: 0.5}\n");
  }
};

const std::string kExamples = std::string(MSQ_SOURCE_DIR) + "/configs/examples/";

}  // namespace

class Examples : public Run, public ::testing::WithParamInterface<std::string> {};

TEST_P(Examples, RunsWithZeroMismatches) {
  const Result r = run("run '" + kExamples + GetParam() + "' --json r.json");
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = read_json("r.json");
  EXPECT_TRUE(j["verify"]["enabled"].get<bool>());
  EXPECT_GT(j["verify"]["outputs_checked"].get<int64_t>(), 0);
  EXPECT_EQ(j["verify"]["mismatches"].get<int64_t>(), 0);
  for (const json& l : j["layers"])
    EXPECT_EQ(l["verify"]["mismatches"].get<int64_t>(), 0) << l["name"];
}
INSTANTIATE_TEST_SUITE_P(Configs, Examples,
                         ::testing::Values("default.yaml", "pynq_z2_mobilenet.yaml",
                                           "zcu102_resnet50.yaml"),
                         [](const auto& info) {
                           std::string n = info.param.substr(0, info.param.find('.'));
                           for (char& c : n)
                             if (!isalnum(c)) c = '_';
                           return n;
                         });

TEST_F(Run, JsonReportHasTheContractFields) {
  const Result r = run("run '" + tiny_config() + "' --json r.json --csv r.csv");
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = read_json("r.json");
  for (const char* k : {"cycles", "latency_ms", "gops", "frames_per_s", "macs", "dram_bytes",
                        "lut_core_utilization", "dsp_core_utilization"})
    EXPECT_TRUE(j["total"].contains(k)) << k;
  for (const char* k : {"lut", "ff", "dsp", "bram36"}) {
    EXPECT_TRUE(j["resources"][k].contains("used")) << k;
    EXPECT_TRUE(j["resources"][k].contains("available")) << k;
  }
  ASSERT_EQ(j["layers"].size(), 3u);
  for (const json& l : j["layers"]) {
    for (const char* k :
         {"name", "m", "k", "n", "sp2_rows", "fixed_rows", "cycles", "macs", "bound",
          "lut_core_busy_cycles", "dsp_core_busy_cycles", "dram_bytes", "overflows"})
      EXPECT_TRUE(l.contains(k)) << k;
    EXPECT_TRUE(l["bound"] == "compute" || l["bound"] == "memory");
    EXPECT_TRUE(l["verify"].contains("checked"));
    EXPECT_TRUE(l["verify"].contains("mismatches"));
  }
  int64_t macs = 0, cycles = 0;
  for (const json& l : j["layers"])
    macs += l["macs"].get<int64_t>(), cycles += l["cycles"].get<int64_t>();
  EXPECT_EQ(j["total"]["macs"].get<int64_t>(), macs);
  EXPECT_EQ(j["total"]["cycles"].get<int64_t>(), cycles);  // layers run back to back
  EXPECT_EQ(j["layers"][0]["m"].get<int64_t>(), 32);
  EXPECT_EQ(j["layers"][0]["k"].get<int64_t>(), 16 * 9);
  EXPECT_EQ(j["layers"][0]["n"].get<int64_t>(), 144);
  for (const char* k : {"enabled", "outputs_checked", "mismatches"})
    EXPECT_TRUE(j["verify"].contains(k));
  EXPECT_EQ(j["config"]["accelerator"]["lut_core"]["rows"].get<int>(), 8);
  EXPECT_TRUE(j["config"]["memory"]["dram"].contains("tRCD"));  // every default filled in
  EXPECT_TRUE(exists("r.csv"));
}

TEST_F(Run, NoVerifySkipsValues) {
  const Result r = run("run '" + tiny_config() + "' --no-verify --json r.json");
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = read_json("r.json");
  EXPECT_FALSE(j["verify"]["enabled"].get<bool>());
  EXPECT_EQ(j["verify"]["outputs_checked"].get<int64_t>(), 0);
  for (const json& l : j["layers"]) EXPECT_EQ(l["verify"]["checked"].get<int64_t>(), 0);
}

TEST_F(Run, InjectedFaultFailsTheRunNamingLayerRowColumn) {
  const std::string cfg = tiny_config();
  const Result r = run("run '" + cfg + "' --json r.json");
  ASSERT_EQ(r.code, 0) << r.err;
  const Result bad =
      run("run '" + cfg +
          "' --json bad.json --set workload.seed=1 "
          "--set verify=true 2>/dev/null; MSQSIM_FAULT=1:5:7 '" MSQSIM_EXE "' run '" +
          cfg + "' --json bad.json");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("layer c2 row 5 column 7"), std::string::npos) << bad.err;
  EXPECT_EQ(read_json("bad.json")["verify"]["mismatches"].get<int64_t>(), 1);
}

TEST_F(Run, BufferTooSmallForOneTileIsExitTwo) {
  const std::string cfg = tiny_config(
      "  buffers: {input_bram36: 1, output_bram36: 1, weight_bram36: 1, double_buffer: true}\n");
  write("big.yaml",
        "name: big\nsource: test\nlayers:\n"
        "  - {name: wide, type: conv, input: [64, 14, 14], out_channels: 4096, kernel: 1, stride: "
        "1, padding: 0}\n");
  const Result r = run("run '" + cfg + "' --set workload.network=big.yaml --json r.json");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("layer 0 (wide): the output buffer is too small for one tile"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(exists("r.json"));  // no report that looks complete
}

TEST_F(Run, ZeroSizedArrayIsExitTwo) {
  const Result r = run("run '" + tiny_config() + "' --set accelerator.lut_core.rows=0");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("accelerator.lut_core.rows"), std::string::npos) << r.err;
}

TEST_F(Run, OverfullDesignIsExitOneUnlessAllowed) {
  const std::string cfg = tiny_config();
  const Result r =
      run("run '" + cfg +
          "' --set accelerator.dsp_core.rows=64 --set accelerator.dsp_core.cols=64 --json r.json");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("DSP"), std::string::npos) << r.err;
  EXPECT_FALSE(exists("r.json"));
  const Result ok = run("run '" + cfg +
                        "' --set accelerator.dsp_core.rows=64 --set accelerator.dsp_core.cols=64 "
                        "--allow-overfull --no-verify");
  EXPECT_EQ(ok.code, 0) << ok.err;
}

TEST_F(Run, InfeasibleTilingIsExitTwo) {
  // A depthwise layer reads every channel's window at once (its rows share no input channel), so
  // it cannot be split along K; one pixel's windows must fit the input buffer.
  const std::string cfg = tiny_config("  buffers: {input_bram36: 1}\n");
  write("dw.yaml",
        "name: dw\nsource: test\nlayers:\n"
        "  - {name: dw, type: conv, input: [512, 14, 14], out_channels: 512, kernel: 3, "
        "stride: 1, padding: 1, groups: 512}\n");
  const Result r = run("run '" + cfg + "' --set workload.network=dw.yaml --json r.json");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("layer 0 (dw): the input buffer is too small for one tile"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("accelerator.buffers.input_bram36"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
  EXPECT_FALSE(exists("r.json"));
}
