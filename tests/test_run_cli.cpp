// msqsim run through the executable: the examples verify, the JSON report keeps its contract, bad
// designs and failed checks give the right exit codes and leave no report behind.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "sim/csv.h"
#include "tests/support/cli_fixture.h"

using msq::testing::CliTest;
using msq::testing::Result;
using nlohmann::json;

namespace {

class Run : public CliTest {
 protected:
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
    if (!exists("tiny.yaml")) tiny_network();
    return write("c.yaml",
                 "device: xc7z020\nclock_mhz: 100\naccelerator:\n  lut_core: {rows: 8, cols: 8}\n"
                 "  dsp_core: {rows: 4, cols: 8}\n" +
                     extra + "workload: {network: tiny.yaml, sp2_fraction: 0.5}\n");
  }
};

const std::string kExamples = std::string(MSQ_SOURCE_DIR) + "/configs/examples/";

// RFC 4180 records of a whole file (quoted fields may hold commas, quotes and newlines).
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row(1);
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"')
        row.back() += '"', ++i;
      else if (c == '"')
        quoted = false;
      else
        row.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.emplace_back();
    } else if (c == '\n') {
      rows.push_back(row);
      row.assign(1, "");
    } else {
      row.back() += c;
    }
  }
  return rows;
}

int64_t sum_layers(const json& j, const char* key) {
  int64_t n = 0;
  for (const json& l : j["layers"]) n += l[key].get<int64_t>();
  return n;
}

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
                                           "zcu102_resnet50.yaml", "msd_like_bitserial.yaml",
                                           "dsp_actpack.yaml"),
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
      shell("MSQSIM_FAULT=c2:5:7 '" MSQSIM_EXE "' run '" + cfg + "' --json bad.json");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("layer c2 row 5 column 7"), std::string::npos) << bad.err;
  EXPECT_EQ(read_json("bad.json")["verify"]["mismatches"].get<int64_t>(), 1);
  // The last row and column of a layer are in range too.
  const Result last = shell("MSQSIM_FAULT=c2:31:35 '" MSQSIM_EXE "' run '" + cfg + "'");
  EXPECT_EQ(last.code, 1);
  EXPECT_NE(last.err.find("layer c2 row 31 column 35"), std::string::npos) << last.err;
}

TEST_F(Run, FaultOutsideTheLayersIsExitTwoNamingTheRange) {
  const std::string cfg = tiny_config();
  const auto fault = [&](const std::string& spec, const std::string& extra = "") {
    return shell("MSQSIM_FAULT='" + spec + "' '" MSQSIM_EXE "' run '" + cfg + "' --json r.json" +
                 extra);
  };
  const std::vector<std::pair<std::string, std::string>> cases{
      // c2 is 32 output channels by 6x6 output pixels.
      {"c2:32:0",
       "msqsim: MSQSIM_FAULT=c2:32:0: row 32 is out of range: layer c2 has 32 rows "
       "(0..31)"},
      {"c2:0:36",
       "msqsim: MSQSIM_FAULT=c2:0:36: column 36 is out of range: layer c2 has 36 "
       "columns (0..35)"},
      {"conv9:0:0",
       "msqsim: MSQSIM_FAULT=conv9:0:0: unknown layer 'conv9': the run's layers are "
       "c1, c2, fc"},
      // A layer index (the old form) is not a layer name.
      {"1:5:7", "msqsim: MSQSIM_FAULT=1:5:7: unknown layer '1'"},
      {"c2:5", "msqsim: MSQSIM_FAULT=c2:5: expected LAYER:ROW:COLUMN"},
      {"c2:-1:0", "msqsim: MSQSIM_FAULT=c2:-1:0: ROW and COLUMN must be non-negative integers"},
  };
  for (const auto& [spec, msg] : cases) {
    const Result r = fault(spec);
    EXPECT_EQ(r.code, 2) << spec << ": " << r.err;
    EXPECT_EQ(r.err.rfind(msg, 0), 0u) << spec << ": " << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
    EXPECT_FALSE(exists("r.json")) << spec;
  }
  // Without values there is no output to corrupt: refused rather than silently ignored.
  const Result nv = fault("c2:5:7", " --no-verify");
  EXPECT_EQ(nv.code, 2) << nv.err;
  EXPECT_NE(nv.err.find("MSQSIM_FAULT=c2:5:7: this run computes no values"), std::string::npos)
      << nv.err;
}

TEST(Csv, QuotesExactlyTheFieldsThatNeedIt) {
  EXPECT_EQ(msq::csv_field("conv1"), "conv1");
  EXPECT_EQ(msq::csv_field(""), "");
  EXPECT_EQ(msq::csv_field("c1,odd"), "\"c1,odd\"");
  EXPECT_EQ(msq::csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(msq::csv_field("a\nb"), "\"a\nb\"");
  EXPECT_EQ(msq::csv_field("a\rb"), "\"a\rb\"");
  EXPECT_EQ(msq::csv_line({"a", "b,c", ""}), "a,\"b,c\",\n");
}

TEST_F(Run, CsvQuotesLayerNamesAndTableShowsThemWhole) {
  write("tiny.yaml",
        "name: tiny\nsource: test\nlayers:\n"
        "  - {name: 'c1,odd \"x\"', type: conv, input: [16, 12, 12], out_channels: 32, kernel: "
        "3, stride: 1, padding: 1}\n"
        "  - {name: block3.unit2.conv_long_name_a, type: conv, input: [32, 12, 12], "
        "out_channels: 32, kernel: 3, stride: 2, padding: 1}\n"
        "  - {name: block3.unit2.conv_long_name_b, type: fc, input: 288, out_channels: 10}\n");
  const Result r = run("run '" + tiny_config() + "' --csv r.csv");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rows = parse_csv(read(path("r.csv")));
  ASSERT_EQ(rows.size(), 4u);
  for (const auto& row : rows) EXPECT_EQ(row.size(), rows[0].size());
  EXPECT_EQ(rows[1][0], "c1,odd \"x\"");
  EXPECT_EQ(rows[2][0], "block3.unit2.conv_long_name_a");
  // Cut to 16 characters, the two long names would read the same.
  EXPECT_NE(r.out.find("\nblock3.unit2.conv_long_name_a "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nblock3.unit2.conv_long_name_b "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nc1,odd \"x\" "), std::string::npos) << r.out;
}

TEST_F(Run, OverflowsAreCountedWarnedAndCanFailTheRun) {
  // A 12-bit accumulator cannot hold these layers' sums (K = 144 products of 8-bit activations).
  const std::string cfg = tiny_config("  accumulator: {bits: 12}\n");
  const Result r = run("run '" + cfg + "' --json r.json --csv r.csv");
  ASSERT_EQ(r.code, 0) << r.err;  // verification passes: both models wrap the same way
  const json j = read_json("r.json");
  const int64_t counted = sum_layers(j, "overflows");
  EXPECT_GT(counted, 0);
  EXPECT_EQ(j["overflow"]["overflows"].get<int64_t>(), counted);
  EXPECT_TRUE(j["overflow"]["values_computed"].get<bool>());
  EXPECT_EQ(j["overflow"]["bound"], "weights");
  EXPECT_EQ(j["overflow"]["accumulator_bits"].get<int>(), 12);
  EXPECT_GT(j["overflow"]["bits_needed"].get<int>(), 12);
  EXPECT_EQ(j["overflow"]["risk_rows"].get<int64_t>(), sum_layers(j, "overflow_risk_rows"));
  EXPECT_EQ(j["total"]["overflow_risk_rows"].get<int64_t>(), sum_layers(j, "overflow_risk_rows"));
  for (const json& l : j["layers"]) {
    // Every overflow happens in a row the bound puts at risk.
    if (l["overflows"].get<int64_t>() > 0) {
      EXPECT_GT(l["overflow_risk_rows"].get<int64_t>(), 0);
    }
    EXPECT_LE(l["overflow_risk_rows"].get<int64_t>(), l["m"].get<int64_t>());
  }
  EXPECT_NE(r.out.find("accumulator: 12 bits (wrap)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(std::to_string(counted) + " overflows"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("msqsim: warning: " + std::to_string(counted) +
                       " accumulator overflows (12-bit accumulator, wrap)"),
            std::string::npos)
      << r.err;
  const auto rows = parse_csv(read(path("r.csv")));
  const auto col = [&](const std::string& name) {
    return size_t(std::find(rows[0].begin(), rows[0].end(), name) - rows[0].begin());
  };
  ASSERT_LT(col("overflow_risk_rows"), rows[0].size());
  ASSERT_LT(col("acc_bits_needed"), rows[0].size());
  EXPECT_EQ(rows[1][col("overflows")], std::to_string(j["layers"][0]["overflows"].get<int64_t>()));

  const Result fail = run("run '" + cfg + "' --json f.json --fail-on-overflow");
  EXPECT_EQ(fail.code, 1);
  EXPECT_NE(fail.err.find(std::to_string(counted) + " accumulator overflows (--fail-on-overflow)"),
            std::string::npos)
      << fail.err;
  EXPECT_TRUE(exists("f.json"));  // the run finished: its report is complete

  // The default 32-bit accumulator: nothing at risk, nothing said, --fail-on-overflow passes.
  const Result ok = run("run '" + tiny_config() + "' --json ok.json --fail-on-overflow");
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(ok.err, "");
  EXPECT_EQ(read_json("ok.json")["overflow"]["risk_rows"].get<int64_t>(), 0);
}

TEST_F(Run, WithoutValuesTheOverflowRiskIsEstimated) {
  const std::string cfg = tiny_config("  accumulator: {bits: 12}\n");
  const Result r = run("run '" + cfg + "' --no-verify --json r.json --csv r.csv");
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = read_json("r.json");
  EXPECT_FALSE(j["overflow"]["values_computed"].get<bool>());
  EXPECT_TRUE(j["overflow"]["overflows"].is_null());
  EXPECT_EQ(j["overflow"]["bound"], "bit widths");
  const int64_t risk = j["overflow"]["risk_rows"].get<int64_t>();
  EXPECT_GT(risk, 0);
  EXPECT_NE(r.err.find("msqsim: warning: " + std::to_string(risk) +
                       " of 74 rows could overflow the 12-bit accumulator"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("overflows not counted"), std::string::npos) << r.out;
  const auto rows = parse_csv(read(path("r.csv")));
  const size_t c = size_t(std::find(rows[0].begin(), rows[0].end(), "overflows") - rows[0].begin());
  ASSERT_LT(c, rows[0].size());
  EXPECT_EQ(rows[1][c], "");  // nothing counted: empty, not 0

  // The bit-width bound is the worst case over all weights of those widths: never below the bound
  // from the actual weights.
  ASSERT_EQ(run("run '" + cfg + "' --json v.json").code, 0);
  const json v = read_json("v.json");
  for (size_t l = 0; l < j["layers"].size(); ++l) {
    EXPECT_GE(j["layers"][l]["overflow_risk_rows"].get<int64_t>(),
              v["layers"][l]["overflow_risk_rows"].get<int64_t>());
    EXPECT_GE(j["layers"][l]["acc_bits_needed"].get<int>(),
              v["layers"][l]["acc_bits_needed"].get<int>());
  }

  const Result fail = run("run '" + cfg + "' --no-verify --fail-on-overflow");
  EXPECT_EQ(fail.code, 1);
  EXPECT_NE(fail.err.find(std::to_string(risk) + " rows could overflow the 12-bit accumulator"),
            std::string::npos)
      << fail.err;
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

// A graph input of 10^9 values per image at batch 1024 (2 TB) before a pool that shrinks it:
// within the count limits, small layers, but the input cannot be allocated. Exit 2 naming the
// network, not an internal std::bad_alloc. The address-space limit makes the allocation fail on
// any machine instead of being granted and then killed.
TEST_F(Run, NetworkLargerThanMemoryIsExitTwo) {
#ifdef MSQ_SANITIZED
  // ASan's operator new reports a failed allocation and aborts instead of throwing
  // std::bad_alloc, and its shadow memory rules out the address-space limit: the release build
  // (tools/setup.sh test) runs this test.
  GTEST_SKIP() << "needs std::bad_alloc and ulimit -v, which AddressSanitizer replaces";
#endif
  write("huge.yaml",
        "name: huge\ninput: [1024, 1024, 1024]\nlayers:\n"
        "  - {name: p, type: maxpool, kernel: 1024, stride: 1024}\n"
        "  - {name: c1, type: conv, out_channels: 4, kernel: 1}\n");
  const Result r =
      shell("ulimit -v 4000000; '" MSQSIM_EXE "' run '" + tiny_config() +
            "' --set workload.network=huge.yaml --set workload.batch=1024 --json r.json");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("huge.yaml: workload.network: its tensors do not fit in this machine's "
                       "memory"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
  EXPECT_FALSE(exists("r.json"));
}

// Within the count limits, but the values of a run need 1.1 TB: refused before any allocation,
// naming the batch. Below the machine's memory plus swap the kernel grants such allocations and
// kills the process once it touches them (a batch of 4096 grew to 24 GB on a 24 GB machine); the
// address-space limit keeps a regression from doing that to the test machine.
TEST_F(Run, ValuesLargerThanMemoryAreRefusedBeforeAllocating) {
  write("wide.yaml",
        "name: wide\nlayers:\n"
        "  - {name: c1, type: conv, input: [256, 1024, 1024], out_channels: 1, kernel: 1}\n");
#ifdef MSQ_SANITIZED
  // No address-space limit under ASan (its shadow memory needs terabytes of it); a regression
  // that allocates the values still fails here, as ASan refuses allocations beyond its maximum.
  const std::string limit;
#else
  const std::string limit = "ulimit -v 4000000; ";
#endif
  const Result r = shell(limit + "'" MSQSIM_EXE "' run '" + tiny_config() +
                         "' --set workload.network=wide.yaml --set workload.batch=2048");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("wide.yaml: workload.batch: the run's values need at least"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("run --no-verify"), std::string::npos) << r.err;
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
  // Allowed, but said: which resource, by how much.
  EXPECT_NE(ok.err.find("msqsim: warning: "), std::string::npos) << ok.err;
  EXPECT_NE(ok.err.find("allowed by --allow-overfull: the design needs "), std::string::npos)
      << ok.err;
  EXPECT_NE(ok.err.find("the design needs 4,168 DSP slices, the XC7Z020 has 220 (1,895%)"),
            std::string::npos)
      << ok.err;
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
