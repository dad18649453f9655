// End-to-end tests of `msqsim trace record` and `msqsim regress` through the executable.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>

#include "models/error.h"
#include "sim/npy.h"
#include "sim/trace.h"
#include "support/random_layers.h"
#include "support/run_cli.h"

namespace msq {
namespace {

namespace fs = std::filesystem;
using testing::msqsim;
using testing::quoted;
using testing::TempDir;

const std::string kSrc = MSQ_SOURCE_DIR;
const std::string kConfig = kSrc + "/tests/traces/configs/conv3x3_s1.yaml";

std::string record(const TempDir& tmp, const std::string& config = kConfig,
                   const std::string& extra = "") {
  const std::string dir = tmp / "t";
  const auto r = msqsim("trace record " + quoted(config) + " --out " + quoted(dir) + extra);
  EXPECT_EQ(r.code, 0) << r.out;
  return dir;
}

void edit_manifest(const std::string& dir, const std::function<void(YAML::Node&)>& fn) {
  YAML::Node root = YAML::LoadFile(dir + "/trace.yaml");
  fn(root);
  YAML::Emitter e;
  e << root;
  std::ofstream(dir + "/trace.yaml") << e.c_str() << "\n";
}

TEST(Regress, RecordThenRegressPasses) {
  TempDir tmp;
  const std::string dir = record(tmp);
  const Trace t = read_trace(dir);
  ASSERT_EQ(t.layers.size(), 1u);
  EXPECT_GT(t.layers[0].expected_cycles, 0);
  // The manifest carries the hardware only: a trace's layers are its workload.
  ASSERT_TRUE(t.config.IsMap() && t.config["accelerator"]);
  EXPECT_TRUE(t.config["device"]);
  EXPECT_TRUE(t.config["memory"]);
  EXPECT_FALSE(t.config["workload"]);
  const auto r = msqsim("regress " + quoted(dir));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("pass conv3x3_s1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 passed, 0 failed"), std::string::npos) << r.out;
}

TEST(Regress, RecordRefusesToOverwriteANonTraceDirectory) {
  TempDir tmp;
  fs::create_directories(tmp / "x");
  std::ofstream(tmp / "x/keep.txt") << "mine\n";
  const auto r = msqsim("trace record " + quoted(kConfig) + " --out " + quoted(tmp / "x"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_TRUE(fs::exists(tmp / "x/keep.txt"));
}

TEST(Regress, ChangedOutputNamesLayerRowColumnExpectedAndGot) {
  TempDir tmp;
  const std::string dir = record(tmp);
  const std::string file = dir + "/conv3x3_s1/output.npy";
  NpyArray a = read_npy(file);
  ASSERT_EQ(a.descr, "|u1");
  ASSERT_EQ(a.shape, (std::vector<int64_t>{1, 16, 12, 12}));
  // Row 5, output pixel (y 3, x 7): GEMM column 3 * 12 + 7 = 43.
  const size_t i = (5 * 12 + 3) * 12 + 7;
  const int old = uint8_t(a.data[i]);
  const int changed = old == 255 ? 254 : old + 1;
  a.data[i] = char(changed);
  write_npy(file, a.descr, a.shape, a.data.data(), a.data.size());
  const auto r = msqsim("regress " + quoted(dir));
  EXPECT_EQ(r.code, 1) << r.out;
  const std::string want = "layer conv3x3_s1 row 5 column 43 (batch 0, y 3, x 7): expected " +
                           std::to_string(changed) + ", got " + std::to_string(old);
  EXPECT_NE(r.out.find(want), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FAIL conv3x3_s1"), std::string::npos) << r.out;
  // --update takes timing changes only: the output difference still fails.
  const auto u = msqsim("regress --update " + quoted(dir));
  EXPECT_EQ(u.code, 1) << u.out;
}

// Slower LUT core pipeline: the outputs stay, the cycles move; --update records them.
void expect_cycle_difference_then_update(const std::string& dir, const std::string& extra) {
  const int64_t before = read_trace(dir).layers[0].expected_cycles;
  const auto r = msqsim("regress " + quoted(dir) + extra);
  EXPECT_EQ(r.code, 1) << r.out;
  std::smatch m;
  const std::regex re("layer conv3x3_s1: cycles: expected (\\d+), got (\\d+)");
  ASSERT_TRUE(std::regex_search(r.out, m, re)) << r.out;
  EXPECT_EQ(std::stoll(m[1]), before);
  const int64_t got = std::stoll(m[2]);
  EXPECT_GT(got, before);
  const auto u = msqsim("regress --update " + quoted(dir) + extra);
  EXPECT_EQ(u.code, 0) << u.out;
  EXPECT_NE(
      u.out.find("updated conv3x3_s1: " + std::to_string(before) + " -> " + std::to_string(got)),
      std::string::npos)
      << u.out;
  EXPECT_EQ(read_trace(dir).layers[0].expected_cycles, got);
  const auto again = msqsim("regress " + quoted(dir) + extra);
  EXPECT_EQ(again.code, 0) << again.out;
}

// A 4x4 LUT array makes the layer compute-bound on the LUT core (at 32x32 it waits for DRAM and
// its pipeline depth does not show).
const std::string kSmallLut =
    " --set accelerator.lut_core.rows=4 --set accelerator.lut_core.cols=4";

TEST(Regress, PipelineDepthInManifestChangesCyclesAndUpdateRecordsThem) {
  TempDir tmp;
  const std::string dir = record(tmp, kConfig, kSmallLut);
  edit_manifest(dir, [](YAML::Node& root) {
    root["config"]["accelerator"]["lut_core"]["pipeline_depth"] = 64;
  });
  expect_cycle_difference_then_update(dir, "");
}

TEST(Regress, ConfigOptionServesATraceWithoutEmbeddedConfig) {
  TempDir tmp;
  std::string text;
  {
    std::ifstream f(kConfig);
    text.assign(std::istreambuf_iterator<char>(f), {});
  }
  // A small LUT array (see kSmallLut), then the same with a deeper pipeline.
  const std::string lut =
      "accelerator:\n  lut_core:\n    rows: 4\n    cols: 4\n    pipeline_depth: ";
  std::ofstream(tmp / "small.yaml") << text << lut << "4\n";
  std::ofstream(tmp / "deep.yaml") << text << lut << "64\n";
  fs::copy_file(kSrc + "/tests/traces/configs/golden_net.yaml", tmp / "golden_net.yaml");
  const std::string dir = record(tmp, tmp / "small.yaml");
  {
    const Trace t = read_trace(dir);
    write_trace(dir, YAML::Node(), t.layers);  // the same trace without its config
  }
  ASSERT_TRUE(read_trace(dir).config.IsNull());
  const auto same = msqsim("regress " + quoted(dir) + " --config " + quoted(tmp / "small.yaml"));
  EXPECT_EQ(same.code, 0) << same.out;
  expect_cycle_difference_then_update(dir, " --config " + quoted(tmp / "deep.yaml"));
}

// ---- bad traces: exit 2 with the file and the problem --------------------------------------

// A valid trace written without a simulation: a random 3x3 conv with SP2 rows and its naive
// reference outputs.
std::string base_trace(const TempDir& tmp) {
  testing::RandomLayerSpec sp;
  sp.shape = testing::conv("c", 4, 6, 8, 3, 1, 1);
  TraceLayer t;
  t.name = "c";
  t.layer = testing::random_layer(sp, 7);
  t.input = testing::random_input(sp.shape, 8, 8);
  uint64_t ovf = 0;
  t.expected = testing::naive_conv(t.layer, t.input, &ovf);
  const std::string dir = tmp / "bad";
  write_trace(dir, YAML::Node(), {t});
  return dir;
}

void expect_bad(const std::string& dir, const std::vector<std::string>& parts) {
  const auto r = msqsim("regress " + quoted(dir));
  EXPECT_EQ(r.code, 2) << r.out;
  for (const auto& p : parts)
    EXPECT_NE(r.out.find(p), std::string::npos) << "missing '" << p << "' in:\n" << r.out;
}

// A --config that does not load is refused up front even when every trace has its own config:
// it was ignored without a word (a mistyped path ran the traces as if nothing was wrong).
TEST(Regress, ABadConfigOptionIsRefusedEvenWhenUnused) {
  TempDir tmp;
  const std::string dir = record(tmp);  // carries its config
  std::ofstream(tmp / "bad.yaml") << "clock_mhz: fast\n";
  for (const auto& [cfg, msg] :
       {std::pair<std::string, std::string>{tmp / "nothere.yaml", "cannot read the file"},
        {tmp / "bad.yaml", "bad.yaml:1: clock_mhz: expected a number"}}) {
    const auto r = msqsim("regress " + quoted(dir) + " --config " + quoted(cfg));
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find(msg), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("passed"), std::string::npos) << r.out;
  }
}

TEST(RegressBadTrace, BaseTraceIsValid) {
  TempDir tmp;
  const auto r = msqsim("regress " + quoted(base_trace(tmp)));
  EXPECT_EQ(r.code, 0) << r.out;
}

TEST(RegressBadTrace, MissingFile) {
  TempDir tmp;
  const std::string dir = base_trace(tmp);
  fs::remove(dir + "/c/bias.npy");
  expect_bad(dir, {"c/bias.npy", "layer 'c'", "missing file"});
}

TEST(RegressBadTrace, WrongDtype) {
  TempDir tmp;
  const std::string dir = base_trace(tmp);
  const std::vector<int64_t> bias(8, 1);
  write_npy(dir + "/c/bias.npy", "<i8", {8}, bias.data(), bias.size() * 8);
  expect_bad(dir, {"c/bias.npy", "dtype <i8 where <i4 is expected"});
}

TEST(RegressBadTrace, WrongShape) {
  TempDir tmp;
  const std::string dir = base_trace(tmp);
  const std::vector<uint8_t> scheme(9, 0);
  write_npy(dir + "/c/scheme.npy", "|u1", {9}, scheme.data(), scheme.size());
  expect_bad(dir, {"c/scheme.npy", "shape [9] where [8] is expected"});
}

TEST(RegressBadTrace, TruncatedNpy) {
  TempDir tmp;
  const std::string dir = base_trace(tmp);
  const std::string f = dir + "/c/output.npy";
  fs::resize_file(f, fs::file_size(f) - 5);
  expect_bad(dir, {"c/output.npy", "truncated data"});
}

TEST(RegressBadTrace, Sp2RowWithAValueThatIsNotALevel) {
  TempDir tmp;
  const std::string dir = base_trace(tmp);
  const std::string f = dir + "/c/weights.npy";
  NpyArray w = read_npy(f);
  ASSERT_EQ(w.descr, "|i1");
  const Trace t = read_trace(dir);
  ASSERT_EQ(t.layers[0].layer.scheme[0], uint8_t(Scheme::Sp2));  // random_layer: SP2 rows first
  ASSERT_EQ(t.layers[0].layer.bits[0], 4);
  w.data[5] = 3;  // 4-bit SP2 magnitudes are 0, 1, 2, 4, 5, 6, 8
  write_npy(f, w.descr, w.shape, w.data.data(), w.data.size());
  expect_bad(dir, {"c/weights.npy", "row 0, column 5: 3 is not a 4-bit SP2 level"});
}

TEST(RegressBadTrace, BigEndianArray) {
  TempDir tmp;
  const std::string dir = base_trace(tmp);
  // write_npy only writes little-endian; patch the header's descr in place ('<i4' -> '>i4').
  const std::string f = dir + "/c/bias.npy";
  std::string bytes;
  {
    std::ifstream in(f, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const size_t at = bytes.find("'<i4'");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 1] = '>';
  std::ofstream(f, std::ios::binary) << bytes;
  expect_bad(dir, {"c/bias.npy", "big-endian"});
}

TEST(RegressBadTrace, OtherTracesStillRunAndExitIsTwo) {
  TempDir tmp;
  const std::string good = base_trace(tmp);
  const auto r = msqsim("regress " + quoted(tmp / "nope") + " " + quoted(good));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("not a trace directory"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pass c"), std::string::npos) << r.out;
}

// ---- traces written outside the simulator ---------------------------------------------------

// The Python tools are part of the contract (a user writes traces with numpy alone): a machine
// without them fails here rather than skipping.
void require_numpy() {
  const auto r = testing::run_cmd("/usr/bin/python3 -c 'import numpy'");
  ASSERT_EQ(r.code, 0) << "/usr/bin/python3 with numpy is required (Debian python3-numpy; "
                          "tools/setup.sh installs it): "
                       << r.out;
}

TEST(Regress, NumpyWrittenTraceRunsWithCyclesReported) {
  require_numpy();
  TempDir tmp;
  const std::string dir = tmp / "np";
  const auto w = testing::run_cmd("/usr/bin/python3 " + quoted(kSrc + "/tools/make_test_trace.py") +
                                  " " + quoted(dir));
  ASSERT_EQ(w.code, 0) << w.out;
  const auto r = msqsim("regress " + quoted(dir));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(std::regex_search(
      r.out,
      std::regex(
          "pass conv3x3 +cycles \\d+ \\(none recorded\\) +outputs 576 checked, 0 mismatches")))
      << r.out;
  EXPECT_TRUE(std::regex_search(
      r.out,
      std::regex("pass fc +cycles \\d+ \\(none recorded\\) +outputs 20 checked, 0 mismatches")))
      << r.out;
}

}  // namespace
}  // namespace msq
