// msqsim sweep end to end: the balanced SP2 fraction, shards, kill and resume, bad sweep files,
// error rows, constraints. Workloads are one ResNet-18 layer unless a test needs time to pass.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "tests/support/sweep_fixture.h"

namespace {

using msq::testing::SweepDir;
using SweepCli = SweepDir;

// layer3.1.conv1: M = 256, K = 2304, N = 196; its weights stay resident, so both cores are
// compute-bound and the SP2 fraction alone decides which one finishes last.
const char* kOneLayer =
    "set:\n"
    "  workload.layers: [layer3.1.conv1]\n"
    "  accelerator.lut_core.rows: 16\n"
    "  accelerator.lut_core.cols: 16\n"
    "  accelerator.dsp_core.rows: 8\n"
    "  accelerator.dsp_core.cols: 8\n";

int count_lines(const std::string& text) {
  return int(std::count(text.begin(), text.end(), '\n'));
}

TEST_F(SweepCli, BestFractionIsNearTheBalancePointAndMixedBeatsBothExtremes) {
  sweep("r.yaml",
        std::string(kOneLayer) + "axes:\n  workload.sp2_fraction: {from: 0, to: 1, step: 0.05}\n");
  const auto r = msqsim("sweep r.yaml --jobs 2 --jsonl r.jsonl");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rows = SweepDir::rows(path("r.csv"));
  ASSERT_EQ(rows.size(), 21u);
  double best = -1, best_r = -1, at0 = 0, at1 = 0;
  for (const auto& row : rows) {
    ASSERT_EQ(row.at("status"), "ok") << row.at("message");
    const double f = std::stod(row.at("frames_per_s")),
                 frac = std::stod(row.at("workload.sp2_fraction"));
    if (f > best) best = f, best_r = frac;
    if (row.at("workload.sp2_fraction") == "0.00") at0 = f;
    if (row.at("workload.sp2_fraction") == "1.00") at1 = f;
  }
  // P_lut = 16*16 = 256 products/cycle, P_dsp = 8*8*2 = 128 (two 4-bit products per slice).
  const double r_star = 256.0 / (256.0 + 128.0);
  EXPECT_NEAR(best_r, r_star, 0.1);
  EXPECT_GT(best, at0 * 1.2);
  EXPECT_GT(best, at1 * 1.2);
  // The best-per-device file holds that point; every point has a JSON line.
  const auto best_rows = SweepDir::rows(path("r.best.csv"));
  ASSERT_EQ(best_rows.size(), 1u);
  EXPECT_DOUBLE_EQ(std::stod(best_rows[0].at("frames_per_s")), best);
  EXPECT_EQ(count_lines(read(path("r.jsonl"))), 21);
  // Not a terminal: plain progress lines, and the rate at the end.
  EXPECT_NE(r.err.find("sweep: 21/21 points, "), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("points/s simulated with 2 jobs"), std::string::npos) << r.out;
}

TEST_F(SweepCli, ShardsTogetherAreExactlyTheUnshardedSweep) {
  sweep("s.yaml", std::string(kOneLayer) +
                      "axes:\n"
                      "  accelerator.lut_core.rows: [8, 16]\n"
                      "  workload.sp2_fraction: {from: 0, to: 1, step: 0.1}\n");
  ASSERT_EQ(msqsim("sweep s.yaml --jobs 2 --out all.csv").code, 0);
  std::string concatenated;
  for (int i = 1; i <= 3; ++i) {
    const std::string part = "p" + std::to_string(i) + ".csv";
    const auto r =
        msqsim("sweep s.yaml --jobs 2 --shard " + std::to_string(i) + "/3 --out " + part);
    ASSERT_EQ(r.code, 0) << r.err;
    const auto rows = SweepDir::rows(path(part));
    EXPECT_GE(rows.size(), 7u);
    for (const auto& row : rows) EXPECT_EQ(std::stoi(row.at("id")) % 3, i - 1);
    const std::string text = read(path(part));
    concatenated += text.substr(text.find('\n') + 1);
  }
  // Concatenated and sorted by id, the shards' rows are the unsharded rows.
  const std::string all = read(path("all.csv"));
  std::vector<std::pair<int, std::string>> got;
  std::istringstream in(concatenated);
  for (std::string line; std::getline(in, line);) got.emplace_back(std::stoi(line), line + "\n");
  std::sort(got.begin(), got.end());
  std::string merged_by_hand = all.substr(0, all.find('\n') + 1);
  for (const auto& [id, line] : got) merged_by_hand += line;
  EXPECT_EQ(merged_by_hand, all);
  // --merge does the same and checks that no point is missing.
  const auto m = msqsim("sweep s.yaml --merge p1.csv p2.csv p3.csv --out merged.csv");
  ASSERT_EQ(m.code, 0) << m.err;
  EXPECT_EQ(read(path("merged.csv")), all);
  EXPECT_EQ(read(path("merged.pareto.csv")), read(path("all.pareto.csv")));
  const auto partial = msqsim("sweep s.yaml --merge p1.csv p3.csv --out partial.csv");
  EXPECT_EQ(partial.code, 1);
  EXPECT_NE(partial.err.find("points missing"), std::string::npos) << partial.err;
}

TEST_F(SweepCli, KilledSweepResumesToTheUninterruptedCsv) {
  // The whole network, one worker: slow enough (tens of ms a point) to be killed midway.
  sweep("k.yaml", "axes:\n  workload.sp2_fraction: {from: 0, to: 1, step: 0.025}\n");
  ASSERT_EQ(msqsim("sweep k.yaml --jobs 2 --out full.csv").code, 0);
  const std::string full = read(path("full.csv"));
  ASSERT_EQ(count_lines(full), 42);

  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (chdir(dir_.c_str()) != 0) _exit(127);
    const int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1), dup2(devnull, 2);
    execl(MSQSIM_EXE, MSQSIM_EXE, "sweep", "k.yaml", "--jobs", "1", "--out", "k.csv", nullptr);
    _exit(127);
  }
  const auto t0 = std::chrono::steady_clock::now();
  while (count_lines(read(path("k.csv"))) < 3 &&
         std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the sweep finished before it could be killed";
  const int kept = count_lines(read(path("k.csv"))) - 1;
  ASSERT_GE(kept, 2);
  ASSERT_LT(kept, 41);

  const auto r = msqsim("sweep k.yaml --jobs 2 --out k.csv --resume");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("resuming"), std::string::npos) << r.err;
  EXPECT_EQ(read(path("k.csv")), full);
  EXPECT_EQ(read(path("k.pareto.csv")), read(path("full.pareto.csv")));
  EXPECT_EQ(read(path("k.best.csv")), read(path("full.best.csv")));
}

TEST_F(SweepCli, ResumeDropsATruncatedLastRowAndRunsItsPointAgain) {
  sweep("t.yaml",
        std::string(kOneLayer) + "axes:\n  workload.sp2_fraction: {from: 0, to: 1, step: 0.1}\n");
  ASSERT_EQ(msqsim("sweep t.yaml --out full.csv").code, 0);
  const std::string full = read(path("full.csv"));
  // Header, four whole rows (out of order, as workers finish), half of a fifth.
  std::vector<std::string> lines;
  std::istringstream in(full);
  for (std::string l; std::getline(in, l);) lines.push_back(l + "\n");
  write("t.csv", lines[0] + lines[3] + lines[1] + lines[6] + lines[2] +
                     lines[5].substr(0, lines[5].size() / 2));
  const auto r = msqsim("sweep t.yaml --out t.csv --resume");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("dropped an incomplete last row"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("4 of 11 points already"), std::string::npos) << r.err;
  EXPECT_EQ(read(path("t.csv")), full);
  // A results file of another sweep is not resumed into.
  sweep("other.yaml", std::string(kOneLayer) + "axes:\n  accelerator.lut_core.rows: [8]\n");
  const auto o = msqsim("sweep other.yaml --out t.csv --resume");
  EXPECT_EQ(o.code, 2);
  EXPECT_EQ(o.err.rfind("msqsim: t.csv:1: ", 0), 0u) << o.err;
}

TEST_F(SweepCli, BadSweepFilesExit2NamingFileLineAndKey) {
  const auto expect = [&](const std::string& body, const std::string& prefix, bool with_base) {
    if (with_base)
      sweep("bad.yaml", body);
    else
      write("bad.yaml", body);
    const auto r = msqsim("sweep bad.yaml");
    EXPECT_EQ(r.code, 2) << body;
    EXPECT_EQ(r.err.rfind(prefix, 0), 0u) << body << "\nstderr: " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(std::filesystem::exists(path("bad.csv")));
  };
  expect("axis:\n  workload.sp2_fraction: [0.5]\n",
         "msqsim: bad.yaml:2: axis: unknown key, expected one of name, base, axes, set, "
         "constraints, verify, eval (did you mean 'axes'?)",
         true);
  expect("axes:\n  workload.sp2_fraction: {from: 0, to: 1, step: 0}\n",
         "msqsim: bad.yaml:3: axes.workload.sp2_fraction: bad range: step must be > 0", true);
  expect("axes:\n  workload.sp2_fraction: {from: 1, to: 0, step: 0.1}\n",
         "msqsim: bad.yaml:3: axes.workload.sp2_fraction: bad range: to (0) is below from (1)",
         true);
  expect("axes:\n  workload.sp2_fraction: {from: 0, step: 0.1}\n",
         "msqsim: bad.yaml:3: axes.workload.sp2_fraction: bad range: missing to", true);
  expect("axes:\n  workload.sp2_fraction: [0.5]\n", "msqsim: bad.yaml:1: base: missing key", false);
  expect("base: nowhere.yaml\naxes:\n  workload.sp2_fraction: [0.5]\n",
         "msqsim: bad.yaml:1: base: no such file", false);
  expect("axes:\n  workload.sp2_fraction: [0.5]\n  accelerator.lut_core.rowz: [8]\n",
         "msqsim: bad.yaml:4: axes.accelerator.lut_core.rowz: unknown key", true);
  expect("set:\n  clock_mhz: fast\naxes:\n  workload.sp2_fraction: [0.5]\n",
         "msqsim: bad.yaml:3: set: clock_mhz: ", true);
  expect("constraints: {fits: maybe}\n",
         "msqsim: bad.yaml:2: constraints.fits: expected true or false (got maybe)", true);
  // Evaluation images that do not fit the network: one message, not an error row per point.
  const std::string digits = MSQ_SOURCE_DIR "/configs/examples/digits_resnet.yaml";
  const std::string labels = MSQ_SOURCE_DIR "/configs/models/digits_test_labels.npy";
  expect("base: " + digits + "\naxes:\n  workload.sp2_fraction: [0.5]\neval: {images: " +
             MSQ_SOURCE_DIR "/configs/models/digits_calibration.npy, labels: " + labels + "}\n",
         "msqsim: bad.yaml:4: eval.labels: " + labels +
             ": expected one integer label per image: shape [32]",
         false);
}

// The sweep file goes through the checks every loader shares: the same "expected WANT (got
// VALUE)", the same did-you-mean for a misspelt key, at every level, and a key given twice is an
// error wherever it is (a second `set:` entry for a key used to win silently).
TEST_F(SweepCli, SweepFilesAreCheckedLikeEveryOtherFile) {
  const auto expect = [&](const std::string& body, const std::string& message) {
    sweep("bad.yaml", body);
    const auto r = msqsim("sweep bad.yaml");
    EXPECT_EQ(r.code, 2) << body;
    EXPECT_EQ(r.err, "msqsim: " + message + "\n") << body;
    EXPECT_FALSE(std::filesystem::exists(path("bad.csv")));
  };
  expect("constraints: {fit: true}\n",
         "bad.yaml:2: constraints.fit: unknown key, expected one of fits, max_lut_percent, "
         "max_dsp_percent (did you mean 'fits'?)");
  expect("axes:\n  workload.sp2_fraction: {from: 0, to: 1, stpe: 0.5}\n",
         "bad.yaml:3: axes.workload.sp2_fraction.stpe: unknown key, expected one of from, to, "
         "step (did you mean 'step'?)");
  expect("set:\n  clock_mhz: 100\n  clock_mhz: 200\n", "bad.yaml:4: set.clock_mhz: duplicate key");
  expect("axes:\n  clock_mhz: [100]\n  clock_mhz: [200]\n",
         "bad.yaml:4: axes.clock_mhz: duplicate key");
  expect("verify: true\nverify: false\n", "bad.yaml:3: verify: duplicate key");
  expect("axes:\n  ~: [1]\n", "bad.yaml:3: axes: expected plain key names (got nothing)");
  expect("constraints: {max_lut_percent: -5}\n",
         "bad.yaml:2: constraints.max_lut_percent: expected a percentage >= 0 (got -5)");
  expect("name: [a, b]\n", "bad.yaml:2: name: expected a non-empty string (got a list)");
  expect("axes:\n  clock_mhz: []\n",
         "bad.yaml:3: axes.clock_mhz: expected a non-empty list of values (got an empty list)");
  expect("axes:\n  clock_mhz: 100\n",
         "bad.yaml:3: axes.clock_mhz: expected a list of values or a range {from, to, step} "
         "(got 100)");
  expect("set: [clock_mhz]\n",
         "bad.yaml:2: set: expected a mapping of dotted config keys to values (got a list)");
}

TEST_F(SweepCli, InvalidPointIsAnErrorRowAndTheOthersRun) {
  sweep("e.yaml", std::string("set:\n  workload.layers: [layer3.1.conv1]\n") +
                      "axes:\n  accelerator.lut_core.rows: [16, 0, 32]\n");
  const auto r = msqsim("sweep e.yaml --jobs 2");
  EXPECT_EQ(r.code, 1) << r.err;
  const auto rows = SweepDir::rows(path("e.csv"));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].at("status"), "ok");
  EXPECT_EQ(rows[1].at("status"), "error");
  EXPECT_NE(rows[1].at("message").find("accelerator.lut_core.rows"), std::string::npos);
  EXPECT_EQ(rows[1].at("frames_per_s"), "");
  EXPECT_EQ(rows[2].at("status"), "ok");
  EXPECT_GT(std::stod(rows[2].at("frames_per_s")), std::stod(rows[0].at("frames_per_s")));
}

// A file a sweep names is relative to the sweep file, as its base is, whatever the working
// directory: the mapping file of `mapping: given` too.
TEST_F(SweepCli, MappingFileIsRelativeToTheSweepFile) {
  std::filesystem::create_directories(path("s"));
  write("s/m.csv", "layer,tile_m,k_channels,tile_rows\nlayer3.1.conv1,64,128,7\n");
  sweep("s/g.yaml", std::string("set:\n  workload.layers: [layer3.1.conv1]\n") +
                        "  accelerator.scheduler.mapping: given\n"
                        "  accelerator.scheduler.mapping_file: m.csv\n"
                        "axes:\n  workload.sp2_fraction: [0.5]\n");
  const auto r = msqsim("sweep s/g.yaml --jobs 1 --out g.csv --jsonl g.jsonl");
  ASSERT_EQ(r.code, 0) << r.err << read(path("g.csv"));
  const auto rows = SweepDir::rows(path("g.csv"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].at("status"), "ok");
  const auto j = nlohmann::json::parse(read(path("g.jsonl")));
  EXPECT_EQ(
      std::filesystem::path(
          j["report"]["config"]["accelerator"]["scheduler"]["mapping_file"].get<std::string>()),
      std::filesystem::path(path("s/m.csv")));
}

TEST_F(SweepCli, PointsThatDoNotFitAreSkippedNotRun) {
  sweep("f.yaml", std::string(kOneLayer) +
                      "axes:\n  device: [xc7z020, xc7z045]\n  accelerator.lut_core.rows: [16, 96]\n"
                      "constraints: {fits: true}\n");
  const auto r = msqsim("sweep f.yaml --jobs 2");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rows = SweepDir::rows(path("f.csv"));
  ASSERT_EQ(rows.size(), 4u);
  // 96x16 SP2 PEs exceed the XC7Z020's LUTs; the XC7Z045 has room for them.
  EXPECT_EQ(rows[0].at("device_name"), "xc7z020");
  EXPECT_EQ(rows[0].at("status"), "ok");
  EXPECT_EQ(rows[1].at("status"), "skipped");
  EXPECT_EQ(rows[1].at("fits"), "false");
  EXPECT_EQ(rows[1].at("cycles"), "");
  EXPECT_NE(rows[1].at("message").find("does not fit"), std::string::npos);
  EXPECT_EQ(rows[3].at("status"), "ok");
  EXPECT_EQ(SweepDir::rows(path("f.best.csv")).size(), 2u);
}

TEST_F(SweepCli, OptimizeFindsAFittingDesignAndSaysWhatBinds) {
  write("c.yaml", "device: xc7z020\nworkload: {layers: [layer3.1.conv1]}\n");
  const auto r = msqsim("optimize c.yaml --jobs 2 --csv opt.csv --set clock_mhz=150");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Best design on xc7z020 (most frames/s): "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(binding: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("engine/array combinations exceed 85% of a resource ("), std::string::npos)
      << r.out;
  const auto rows = SweepDir::rows(path("opt.csv"));
  ASSERT_GT(rows.size(), 20u);
  for (const auto& row : rows) {
    EXPECT_EQ(row.at("fits"), "true");
    if (row.at("status") == "ok") {
      EXPECT_LE(std::stod(row.at("lut_percent")), 85.0);
    }
  }
}

}  // namespace
