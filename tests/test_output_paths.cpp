// Output paths are checked before the work that produces what goes into them: a report path in a
// missing directory, or under a file, stops the command at once with one line that names the path
// and the reason, instead of after a whole simulation. And a file size limit (ulimit -f) is a
// write error with its reason, not a signal that kills msqsim.
//
// The tests run as root, where permission bits do not stop a write: the unwritable paths are a
// directory that does not exist (ENOENT) and a path under a regular file (ENOTDIR).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "tests/support/cli_fixture.h"

using msq::testing::CliTest;
using msq::testing::Result;

namespace {

class OutputPaths : public CliTest {
 protected:
  // One small layer: a real simulation, but a short one.
  std::string config() {
    return write("c.yaml",
                 "device: xc7z020\nclock_mhz: 100\naccelerator:\n  lut_core: {rows: 8, cols: 8}\n"
                 "  dsp_core: {rows: 4, cols: 8}\nworkload: {layers: [fc]}\n");
  }

  // Exit 2, one line on stderr naming `path` and `reason`, and nothing simulated: the table that
  // run prints before writing its reports never appears.
  void expect_refused_up_front(const std::string& args, const std::string& path,
                               const std::string& reason) {
    const Result r = run(args);
    EXPECT_EQ(r.code, 2) << args << "\nstderr: " << r.err;
    EXPECT_EQ(r.err, "msqsim: " + path + ": cannot write: " + reason + "\n") << args;
    EXPECT_EQ(r.out, "") << args << ": ran before refusing";
  }
};

TEST_F(OutputPaths, RunRefusesUnwritableReportPathsBeforeSimulating) {
  const std::string cfg = config();
  expect_refused_up_front("run c.yaml --json nodir/r.json", "nodir/r.json",
                          "No such file or directory");
  expect_refused_up_front("run c.yaml --csv c.yaml/r.csv", "c.yaml/r.csv", "Not a directory");
  expect_refused_up_front("run c.yaml --json ok.json --timeline nodir/t.json", "nodir/t.json",
                          "No such file or directory");
  std::filesystem::create_directory(path("adir"));
  expect_refused_up_front("run c.yaml --json adir", "adir", "Is a directory");
  // The check leaves nothing behind, and a run to good paths still writes its reports.
  EXPECT_FALSE(std::filesystem::exists(path("ok.json")));
  for (const auto& e : std::filesystem::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  const Result ok = run("run c.yaml --json ok.json --csv ok.csv");
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_TRUE(std::filesystem::exists(path("ok.json")));
  EXPECT_TRUE(std::filesystem::exists(path("ok.csv")));
}

// An output on an input replaced it (`run c.yaml --json c.yaml` overwrote the config), two
// outputs on one path kept only the last, and an empty path wrote nothing without a word.
TEST_F(OutputPaths, RunRefusesOutputsOnItsInputsOrOnEachOther) {
  const std::string cfg = config();
  const std::string before = read(cfg);
  struct Bad {
    std::string args, err;
  };
  const Bad bad[] = {
      {"--json c.yaml",
       "msqsim: c.yaml: --json: is the run's config: writing the output would "
       "replace it\n"},
      {"--timeline ./c.yaml", "msqsim: ./c.yaml: --timeline: is the run's config"},
      {"--json r.json --csv r.json", "msqsim: r.json: --csv: is also --json's file"},
      {"--json net.yaml --set workload.network=net.yaml",
       "msqsim: net.yaml: --json: is the run's network file (workload.network)"},
      {"--csv ''", "msqsim run: --csv expects a file path (got '')"},
      {"--vcd c.yaml", "msqsim: c.yaml: --vcd: is the run's config"},
      {"--vcd ''", "msqsim run: --vcd expects a file path (got '')"},
  };
  write("net.yaml", "name: n\nlayers:\n  - {name: fc, type: fc, input: 16, out_channels: 4}\n");
  for (const Bad& b : bad) {
    const Result r = run("run c.yaml " + b.args);
    EXPECT_EQ(r.code, 2) << b.args << "\nstderr: " << r.err;
    EXPECT_EQ(r.err.rfind(b.err, 0), 0u) << b.args << "\nstderr: " << r.err;
    EXPECT_EQ(r.out, "") << b.args << ": ran before refusing";
  }
  EXPECT_EQ(read(cfg), before);
  EXPECT_FALSE(std::filesystem::exists(path("r.json")));
}

TEST_F(OutputPaths, TraceRecordRefusesAnUnwritableDirectoryWithTheReason) {
  config();
  expect_refused_up_front("trace record c.yaml --out c.yaml/trace", "c.yaml/trace",
                          "Not a directory");
  expect_refused_up_front("trace record c.yaml --out nodir/trace", "nodir/trace",
                          "No such file or directory");
}

TEST_F(OutputPaths, OptimizeRefusesAnUnwritableOutBeforeTheSearch) {
  config();
  expect_refused_up_front("optimize c.yaml --jobs 2 --out nodir/best.yaml", "nodir/best.yaml",
                          "No such file or directory");
}

TEST_F(OutputPaths, SweepRefusesUnwritableOutAndJsonl) {
  config();
  write("s.yaml", "base: c.yaml\naxes:\n  workload.sp2_fraction: [0.0, 0.5]\n");
  expect_refused_up_front("sweep s.yaml --out c.yaml/s.csv", "c.yaml/s.csv", "Not a directory");
  expect_refused_up_front("sweep s.yaml --out s.csv --jsonl nodir/s.jsonl", "nodir/s.jsonl",
                          "No such file or directory");
  EXPECT_FALSE(std::filesystem::exists(path("s.csv")));
}

// sweep --out on its base config overwrote it before the workers read it; optimize --out on its
// config overwrote it.
TEST_F(OutputPaths, SweepAndOptimizeRefuseAnOutputOnTheirInputs) {
  const std::string before = read(config());
  write("s.yaml", "base: c.yaml\naxes:\n  workload.sp2_fraction: [0.0, 0.5]\n");
  const std::pair<std::string, std::string> bad[] = {
      {"sweep s.yaml --out s.yaml", "msqsim: s.yaml: --out: is the run's sweep file"},
      {"sweep s.yaml --out ./c.yaml", "msqsim: ./c.yaml: --out: is the run's base config"},
      {"sweep s.yaml --out s.csv --jsonl s.csv", "msqsim: s.csv: --jsonl: is the run's --out CSV"},
      // The summaries written next to --out replaced a --jsonl of their name at the end.
      {"sweep s.yaml --out s.csv --jsonl s.pareto.csv",
       "msqsim: s.pareto.csv: --jsonl: is the run's Pareto summary (OUT.pareto.csv)"},
      {"sweep s.yaml --out s.csv --jsonl s.best.csv",
       "msqsim: s.best.csv: --jsonl: is the run's best-point summary (OUT.best.csv)"},
      {"sweep s.yaml --out s.csv --jsonl s.sweep.json",
       "msqsim: s.sweep.json: --jsonl: is the run's sweep definition record"},
      {"optimize c.yaml --jobs 1 --out c.yaml", "msqsim: c.yaml: --out: is the run's config"},
  };
  for (const auto& [args, err] : bad) {
    const Result r = run(args);
    EXPECT_EQ(r.code, 2) << args << "\nstderr: " << r.err;
    EXPECT_EQ(r.err.rfind(err, 0), 0u) << args << "\nstderr: " << r.err;
    EXPECT_EQ(r.out, "") << args;
  }
  EXPECT_EQ(read(path("c.yaml")), before);
  EXPECT_NE(read(path("s.yaml")).find("axes:"), std::string::npos);
}

// SIGXFSZ at its default kills a process that writes past RLIMIT_FSIZE: run --json with a 1 KiB
// limit (the report is larger) must end with the write error and its reason, and leave no report.
TEST_F(OutputPaths, FileSizeLimitIsAWriteErrorWithItsReason) {
  config();
  // `trap - XFSZ` restores the default disposition in case the test runner ignores the signal.
  const Result r = shell("trap - XFSZ; ulimit -f 2 && '" MSQSIM_EXE "' run c.yaml --json r.json");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("msqsim: r.json: cannot write: File too large\n"), std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(path("r.json")));
}

}  // namespace

namespace {

// An output that is a pipe (or a device: /dev/null, /dev/stdout) is written in place. The finished
// file was renamed over it, replacing the node itself: `--json /dev/null` as root turned
// /dev/null into a regular file for the whole machine. A FIFO shows it without touching /dev.
TEST_F(OutputPaths, APipeOrDeviceIsWrittenInPlaceNotReplaced) {
  config();
  ASSERT_EQ(::mkfifo(path("out.fifo").c_str(), 0644), 0);
  const Result r = shell("(timeout 30 cat out.fifo > got.json &) && '" MSQSIM_EXE
                         "' run c.yaml --no-verify --json out.fifo > /dev/null; rc=$?; sleep 1; "
                         "exit $rc");
  EXPECT_EQ(r.code, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(::stat(path("out.fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "the pipe was replaced by a file";
  EXPECT_NE(read(path("got.json")).find("\"layers\""), std::string::npos);
  // /dev/stdout is a link into /proc: written through (after the table), the link kept. Here a
  // link of the same kind in the temp dir, and a link to a plain file, which is replaced by the
  // finished file while the link stays a link.
  std::filesystem::create_symlink("/proc/self/fd/1", path("so"));
  std::filesystem::create_symlink("real.json", path("lnk.json"));
  const Result so = shell("'" MSQSIM_EXE "' run c.yaml --no-verify --csv so --json lnk.json");
  EXPECT_EQ(so.code, 0) << so.err;
  EXPECT_TRUE(std::filesystem::is_symlink(path("so")));
  EXPECT_TRUE(std::filesystem::is_symlink(path("lnk.json")));
  EXPECT_LT(so.out.find("total:"), so.out.find("\nfc,")) << so.out;
  EXPECT_NE(read(path("real.json")).find("\"layers\""), std::string::npos);
  // A sweep's --out is read back and has files written next to it: a pipe is refused.
  write("s.yaml", "base: c.yaml\naxes:\n  workload.sp2_fraction: [0.5]\n");
  expect_input_error("sweep s.yaml --out out.fifo",
                     "msqsim: out.fifo: --out: is not a regular file (a device or a pipe)");
}

}  // namespace
