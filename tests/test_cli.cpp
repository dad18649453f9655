// The command line through the executable: exit codes, one-line messages, help, validate.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/cli_fixture.h"

namespace fs = std::filesystem;

namespace {
using Cli = msq::testing::CliTest;
using msq::testing::Result;
}  // namespace

TEST_F(Cli, SyntaxErrorNamesFileAndLine) {
  write("c.yaml", "device: xc7z020\naccelerator:\n  lut_core: {rows: [4}\n");
  expect_input_error("validate c.yaml", "msqsim: c.yaml:3: YAML syntax error: ");
}

TEST_F(Cli, UnknownKeyNamesFileLineKeyAndSuggests) {
  write("c.yaml", "device: xc7z020\naccelerator:\n  lut_core:\n    rowz: 8\n");
  expect_input_error("validate c.yaml",
                     "msqsim: c.yaml:4: accelerator.lut_core.rowz: unknown key, expected one of "
                     "rows, cols, pipeline_depth (did you mean 'accelerator.lut_core.rows'?)");
}

TEST_F(Cli, WrongTypeNamesFileLineAndKey) {
  write("c.yaml", "clock_mhz: fast\n");
  expect_input_error("validate c.yaml",
                     "msqsim: c.yaml:1: clock_mhz: expected a number in 1..1000 (got fast)");
}

TEST_F(Cli, OutOfRangeNamesFileLineAndKey) {
  write("c.yaml", "workload:\n  batch: 1\n  act_bits: 17\n");
  expect_input_error("validate c.yaml",
                     "msqsim: c.yaml:3: workload.act_bits: expected an integer in 1..16 (got 17)");
}

TEST_F(Cli, MissingConfigFile) {
  expect_input_error("validate none.yaml", "msqsim: none.yaml: cannot read the file");
}

TEST_F(Cli, MissingDeviceNamesTheReferringKey) {
  write("c.yaml", "clock_mhz: 100\ndevice: xc7z999\n");
  expect_input_error("validate c.yaml",
                     "msqsim: c.yaml:2: device: expected a device name "
                     "(xc7z020, xc7z045, xczu3eg, xczu9eg)");
}

TEST_F(Cli, BadSetIsOneMessage) {
  write("c.yaml", "clock_mhz: 100\n");
  expect_input_error("validate c.yaml --set clock_mhz",
                     "msqsim: --set clock_mhz: expected KEY=VALUE");
  expect_input_error("validate c.yaml --set accelerator.lut_core.row=3",
                     "msqsim: --set accelerator.lut_core.row=3: accelerator.lut_core.row: unknown "
                     "key");
  expect_input_error("validate c.yaml --set workload.sp2_fraction=2",
                     "msqsim: --set workload.sp2_fraction=2: workload.sp2_fraction: expected a "
                     "number in 0..1 (got 2)");
}

TEST_F(Cli, SetIsAppliedBeforeValidation) {
  write("c.yaml", "clock_mhz: 5000\n");
  const Result r = run("validate c.yaml --set clock_mhz=250 --set device=xczu9eg");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("xczu9eg"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("250 MHz"), std::string::npos) << r.out;
}

TEST_F(Cli, EveryExampleValidates) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(std::string(MSQ_SOURCE_DIR) + "/configs/examples")) {
    if (e.path().extension() != ".yaml") continue;
    ++n;
    const Result r = run("validate '" + e.path().string() + "'");
    EXPECT_EQ(r.code, 0) << e.path() << "\n" << r.err;
    EXPECT_NE(r.out.find("config is valid"), std::string::npos) << r.out;
  }
  EXPECT_GE(n, 3);
  const Result r = run("validate '" MSQ_SOURCE_DIR "/configs/examples/default.yaml'");
  EXPECT_NE(r.out.find("xc7z045"), std::string::npos);
  EXPECT_NE(r.out.find("21 layers"), std::string::npos);
  EXPECT_NE(r.out.find("1.814 GMAC"), std::string::npos);
}

TEST_F(Cli, AcceleratorOnlyConfigsValidate) {
  for (const auto& e :
       fs::directory_iterator(std::string(MSQ_SOURCE_DIR) + "/configs/accelerators")) {
    const Result r = run("validate '" + e.path().string() + "'");
    EXPECT_EQ(r.code, 0) << e.path() << "\n" << r.err;
  }
}

TEST_F(Cli, HelpOfEachCommandTeachesItsOptions) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cmds{
      {"run",
       {"--set", "--json", "--csv", "--no-verify", "--allow-overfull", "--fail-on-overflow",
        "MSQSIM_FAULT=LAYER:ROW:COLUMN", "overflow_risk_rows"}},
      {"sweep", {"--jobs", "--shard", "--out", "--jsonl", "--resume"}},
      {"optimize", {"--set", "--jobs", "--out"}},
      {"regress", {"--config", "--update"}},
      {"trace record", {"--out", "--set"}},
      {"validate", {"--set", "--no-verify", "--allow-overfull", "--fail-on-overflow"}},
  };
  for (const auto& [cmd, opts] : cmds) {
    const Result r = run(cmd + " --help");
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_EQ(r.out.rfind("Usage: msqsim " + cmd, 0), 0u) << r.out;
    for (const auto& o : opts) EXPECT_NE(r.out.find(o), std::string::npos) << cmd << " " << o;
    EXPECT_NE(r.out.find("Example:"), std::string::npos) << cmd;
    EXPECT_NE(r.out.find("Exit codes:"), std::string::npos) << cmd;
  }
  const Result top = run("--help");
  EXPECT_EQ(top.code, 0);
  for (const char* c : {"run", "sweep", "optimize", "regress", "trace record", "validate"})
    EXPECT_NE(top.out.find(c), std::string::npos) << c;
  const Result v = run("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_EQ(v.out.rfind("msqsim ", 0), 0u);
}

TEST_F(Cli, BadUsageIsOneLineAndExit2) {
  expect_input_error("", "msqsim: missing COMMAND");
  expect_input_error("frobnicate", "msqsim: unknown command 'frobnicate'");
  expect_input_error("validate c.yaml --frob", "msqsim validate: unrecognised option '--frob'");
  expect_input_error("run c.yaml --no-ver", "msqsim run: unrecognised option '--no-ver'");
  expect_input_error("validate", "msqsim validate: missing CONFIG.yaml");
  expect_input_error("validate a.yaml b.yaml", "msqsim validate: too many arguments");
  expect_input_error("regress", "msqsim regress: missing TRACE_DIR");
  expect_input_error("trace", "msqsim trace: missing subcommand");
  expect_input_error("trace replay x", "msqsim trace: unknown subcommand 'replay'");
  expect_input_error("trace record c.yaml", "msqsim trace record: missing --out TRACE_DIR");
  expect_input_error("sweep s.yaml --jobs -1", "msqsim sweep: --jobs must be 0");
  expect_input_error("sweep s.yaml --jobs two",
                     "msqsim sweep: the argument ('two') for option "
                     "'--jobs' is invalid");
  for (const char* s : {"0/4", "5/4", "1", "a/2", "1/0", "-1/2", "1/2/3"})
    expect_input_error(std::string("sweep s.yaml --shard ") + s,
                       "msqsim sweep: --shard expects I/N with 1 <= I <= N");
}

namespace {
// A small design on the XC7Z020 whose problems tests switch on one at a time.
class Validate : public Cli {
 protected:
  void SetUp() override {
    Cli::SetUp();
    write("tiny.yaml",
          "name: tiny\nsource: test\nlayers:\n"
          "  - {name: c1, type: conv, input: [16, 12, 12], out_channels: 32, kernel: 3, "
          "stride: 1, padding: 1}\n"
          "  - {name: dw, type: conv, input: [512, 14, 14], out_channels: 512, kernel: 3, "
          "stride: 1, padding: 1, groups: 512}\n");
    write("c.yaml",
          "device: xc7z020\nclock_mhz: 100\naccelerator:\n  lut_core: {rows: 8, cols: 8}\n"
          "  dsp_core: {rows: 4, cols: 8}\nworkload: {network: tiny.yaml}\n");
  }
};
// A depthwise layer reads every channel's window at once: one input BRAM36 cannot hold them.
const char* kInfeasible = " --set accelerator.buffers.input_bram36=1";
const char* kOverfull = " --set accelerator.dsp_core.rows=64 --set accelerator.dsp_core.cols=64";
const char* kNarrowAcc = " --set accelerator.accumulator.bits=12";
}  // namespace

TEST_F(Validate, RefusesWhatRunRefusesWithTheSameMessage) {
  const Result v = run(std::string("validate c.yaml") + kInfeasible);
  EXPECT_EQ(v.code, 2) << v.err;
  EXPECT_EQ(v.err.rfind("msqsim: c.yaml: layer 1 (dw): the input buffer is too small for one "
                        "tile",
                        0),
            0u)
      << v.err;
  EXPECT_EQ(v.err.find('\n'), v.err.size() - 1) << "one line: " << v.err;
  const Result r = run(std::string("run c.yaml") + kInfeasible);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, v.err);
}

TEST_F(Validate, ExitsAsRunWouldForTheSameDesign) {
  const std::vector<std::pair<std::string, int>> cases{
      {"", 0},
      {kInfeasible, 2},
      {kOverfull, 1},
      {std::string(kOverfull) + " --allow-overfull", 0},
      {std::string(kOverfull) + kInfeasible, 2},  // cannot run at all: bad input wins
      {kNarrowAcc, 0},
      {std::string(kNarrowAcc) + " --fail-on-overflow", 1},
      {" --fail-on-overflow", 0},
  };
  for (const auto& [opts, code] : cases)
    for (const char* mode : {"", " --no-verify"}) {
      const Result v = run("validate c.yaml" + opts + mode);
      const Result r = run("run c.yaml" + opts + mode);
      EXPECT_EQ(v.code, code) << opts << mode << "\n" << v.err;
      EXPECT_EQ(r.code, code) << opts << mode << "\n" << r.err;
      EXPECT_EQ(v.out.find("config is valid") != std::string::npos, code == 0) << opts << mode;
    }
}

TEST_F(Validate, SummarizesPlanResourcesAndAccumulator) {
  const Result v = run("validate c.yaml");
  ASSERT_EQ(v.code, 0) << v.err;
  EXPECT_NE(v.out.find("plan:      every layer fits the buffers"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("resources: lut "), std::string::npos) << v.out;
  EXPECT_NE(v.out.find(": fits, bound by "), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("accumulator: 32 bits (wrap)"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("0 of 544 rows at risk"), std::string::npos) << v.out;
  EXPECT_EQ(v.err, "");

  const Result over = run(std::string("validate c.yaml") + kOverfull);
  EXPECT_EQ(over.code, 1);
  EXPECT_NE(over.out.find("does NOT fit: the design needs"), std::string::npos) << over.out;
  EXPECT_NE(over.err.find("msqsim: c.yaml: the design does not fit the device: "),
            std::string::npos)
      << over.err;
  const Result allowed = run(std::string("validate c.yaml --allow-overfull") + kOverfull);
  EXPECT_EQ(allowed.code, 0);
  EXPECT_EQ(allowed.err.rfind("msqsim: warning: c.yaml: the design does not fit the device, "
                              "allowed by --allow-overfull: the design needs ",
                              0),
            0u)
      << allowed.err;
  EXPECT_NE(allowed.err.find("the design needs 4,168 DSP slices, the XC7Z020 has 220 (1,895%)"),
            std::string::npos)
      << allowed.err;

  const Result narrow = run(std::string("validate c.yaml") + kNarrowAcc);
  EXPECT_EQ(narrow.code, 0);
  EXPECT_NE(narrow.out.find("accumulator: 12 bits (wrap)"), std::string::npos) << narrow.out;
  EXPECT_NE(narrow.err.find("rows could overflow the 12-bit accumulator"), std::string::npos)
      << narrow.err;
  EXPECT_NE(narrow.err.find("bound from the weights"), std::string::npos) << narrow.err;
  const Result timing = run(std::string("validate c.yaml --no-verify") + kNarrowAcc);
  EXPECT_NE(timing.err.find("bound from the bit widths"), std::string::npos) << timing.err;
}

// The two spellings of the engines, one from the file and one from --set (or a sweep axis): the
// message is about what was typed and says what to write instead. It blamed the file's line of
// the other spelling as "ambiguous", and a sweep axis over the list made every point an error.
TEST_F(Cli, MixedEngineSpellingsSayWhichToUse) {
  write("old.yaml", "accelerator:\n  lut_core: {rows: 8}\n  dsp_core: {rows: 8}\n");
  expect_input_error(
      "validate old.yaml --set 'accelerator.engines=[{impl: lut_sp2}, {impl: "
      "dsp48}]'",
      "msqsim: --set accelerator.engines=[{impl: lut_sp2}, {impl: dsp48}]: "
      "accelerator.engines: the config gives the engines in the old spelling "
      "(accelerator.lut_core at old.yaml:2), which cannot be mixed with the list: "
      "change them by the old keys (accelerator.lut_core.rows=N and the like), or "
      "write accelerator.engines into the config in place of accelerator.lut_core "
      "and accelerator.dsp_core");
  write("list.yaml", "accelerator:\n  engines: [{impl: lut_sp2}, {impl: dsp48}]\n");
  expect_input_error("validate list.yaml --set accelerator.dsp_core.rows=8",
                     "msqsim: --set accelerator.dsp_core.rows=8: accelerator.dsp_core: the config "
                     "gives the engines as a list (accelerator.engines at list.yaml:2), so the "
                     "old spelling's keys do not apply: give the whole list instead, every entry "
                     "with its keys, e.g. accelerator.engines=[{impl: lut_sp2, rows: 32, cols: "
                     "32}, {impl: dsp48, rows: 16, cols: 16}]");
  // A sweep axis over the list on a base in the old spelling: one message at the axis's line.
  write("s.yaml",
        "base: old.yaml\naxes:\n  accelerator.engines:\n    - [{impl: lut_sp2}, "
        "{impl: dsp48}]\n    - [{impl: dsp48}]\n");
  expect_input_error("sweep s.yaml --out o.csv",
                     "msqsim: s.yaml:3: axes.accelerator.engines: the config gives the engines in "
                     "the old spelling");
  EXPECT_FALSE(fs::exists(path("o.csv")));
}

// An entry of a list cannot be set on its own: the message says the list is set whole (it was
// "unknown key ... did you mean 'accelerator.engines'?" or "a single value with no keys inside").
TEST_F(Cli, SetIntoAListEntrySaysTheListIsSetWhole) {
  write("list.yaml", "accelerator:\n  engines: [{impl: lut_sp2}, {impl: dsp48}]\n");
  for (const char* key : {"accelerator.engines[0].rows", "accelerator.engines.0.rows"})
    expect_input_error("validate list.yaml --set " + std::string(key) + "=8",
                       "msqsim: --set " + std::string(key) + "=8: " + key +
                           ": unknown key: accelerator.engines is a list (list of engines): --set "
                           "replaces it whole (--set 'accelerator.engines=[...]'), its entries "
                           "cannot be set one by one");
}

// An option whose value was left out took the next option as its value: `--json --no-verify`
// wrote the report to a file named '--no-verify' and ran with verification on.
TEST_F(Cli, AnOptionIsNeverTakenAsAnotherOptionsValue) {
  const std::string cfg = "'" MSQ_SOURCE_DIR "/configs/examples/default.yaml'";
  expect_input_error("run " + cfg + " --json --no-verify",
                     "msqsim run: --json expects a value, got the option '--no-verify' (give "
                     "--json its value; a file named so: ./--no-verify)");
  EXPECT_FALSE(fs::exists(path("--no-verify")));
  write("s.yaml", "base: " MSQ_SOURCE_DIR
                  "/configs/examples/default.yaml\naxes:\n  "
                  "workload.sp2_fraction: [0.5]\n");
  expect_input_error("sweep s.yaml --out --jsonl",
                     "msqsim sweep: --out expects a value, got the option '--jsonl'");
  EXPECT_FALSE(fs::exists(path("--jsonl")));
  expect_input_error("sweep s.yaml --merge --out m.csv",
                     "msqsim sweep: --merge expects a value, got the option '--out'");
}

// yaml-cpp reads 010 as octal and 0x10 as hex: a batch of 010 ran as 8 images. Integers are
// decimal; a leading zero or a base prefix is refused.
TEST_F(Cli, IntegersWithALeadingZeroOrABasePrefixAreRefused) {
  for (const char* v : {"010", "0x10"}) {
    write("c.yaml", std::string("workload:\n  batch: ") + v + "\n");
    expect_input_error("validate c.yaml",
                       std::string("msqsim: c.yaml:2: workload.batch: expected a decimal integer "
                                   "in 1..4096, without a leading 0 or a base prefix (YAML 1.1 "
                                   "reads 010 as octal 8) (got ") +
                           v + ")");
  }
  write("c.yaml", "workload:\n  batch: 10\n  seed: 0\n");
  EXPECT_EQ(run("validate c.yaml").code, 0);
}

// A MSQSIM_CONFIG_DIR that is not a directory: one message naming it (every name lookup listed no
// names: "expected a device name () or a path").
TEST_F(Cli, AConfigDirThatIsNotADirectoryIsNamed) {
  write("c.yaml", "device: xc7z020\n");
  const Result r =
      shell("MSQSIM_CONFIG_DIR='" + path("nothere") + "' '" MSQSIM_EXE "' validate c.yaml");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("msqsim: MSQSIM_CONFIG_DIR=" + path("nothere") +
                            ": not a directory; expected the configs directory",
                        0),
            0u)
      << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
}
