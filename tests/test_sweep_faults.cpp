// msqsim sweep under faults: a full disk, a file size limit, an unwritable output, a second sweep
// on the same output, rows lost to another writer, a changed sweep definition under --resume, a
// hung worker. Each test checks the exit code, the one-line message and that the CSV stays
// readable by --resume.
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "tests/support/sweep_fixture.h"

namespace {

using msq::testing::SweepDir;
using SweepFaults = SweepDir;

// One compute-bound layer: each point takes milliseconds.
const char* kOneLayer =
    "set:\n"
    "  workload.layers: [layer3.1.conv1]\n"
    "  accelerator.lut_core.rows: 16\n"
    "  accelerator.lut_core.cols: 16\n"
    "  accelerator.dsp_core.rows: 8\n"
    "  accelerator.dsp_core.cols: 8\n";

// The whole network, 81 points: with one worker a sweep runs for seconds, long enough to act on it
// while it runs.
const char* kSlowAxes = "axes:\n  workload.sp2_fraction: {from: 0, to: 1, step: 0.0125}\n";

int count_lines(const std::string& text) {
  return int(std::count(text.begin(), text.end(), '\n'));
}

// Every line whole and with the header's number of cells (no cell of these sweeps holds a comma
// or a quote).
void expect_whole_rows(const std::string& csv) {
  ASSERT_FALSE(csv.empty());
  EXPECT_EQ(csv.back(), '\n') << "torn last row";
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  const auto commas = std::count(line.begin(), line.end(), ',');
  for (int n = 2; std::getline(in, line); ++n)
    EXPECT_EQ(std::count(line.begin(), line.end(), ','), commas) << "line " << n << ": " << line;
}

TEST_F(SweepFaults, FileSizeLimitStopsTheSweepNamingFileAndReasonAndResumeCompletesIt) {
  sweep("f.yaml",
        std::string(kOneLayer) + "axes:\n  workload.sp2_fraction: {from: 0, to: 1, step: 0.025}\n");
  ASSERT_EQ(msqsim("sweep f.yaml --jobs 2 --out full.csv").code, 0);
  const std::string full = read(path("full.csv"));
  ASSERT_GT(full.size(), 6000u);
  // A file size limit below the CSV's size, with SIGXFSZ at its default (which kills a program
  // that does not handle it): the sweep must stop with a message, not die. The limit leaves room
  // for the definition record (its size follows the resolved config), not for every row.
  const rlim_t record = read(path("full.sweep.json")).size();
  ASSERT_LT(record + 1000, full.size());
  const rlim_t limit = (record + full.size()) / 2;
  const pid_t pid = start({"sweep", "f.yaml", "--jobs", "2", "--out", "f.csv"}, "limited", [limit] {
    signal(SIGXFSZ, SIG_DFL);
    const rlimit lim{limit, limit};
    setrlimit(RLIMIT_FSIZE, &lim);
  });
  const auto r = finish(pid, "limited");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("msqsim: f.csv: cannot write: File too large\n"), std::string::npos)
      << r.err;
  const std::string partial = read(path("f.csv"));
  EXPECT_LE(partial.size(), limit);
  EXPECT_GT(count_lines(partial), 2);
  EXPECT_LT(count_lines(partial), count_lines(full));
  expect_whole_rows(partial);
  const auto resumed = msqsim("sweep f.yaml --jobs 2 --out f.csv --resume");
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(read(path("f.csv")), full);
}

TEST_F(SweepFaults, FullFilesystemStopsTheSweepAndLeavesAResumableCsv) {
  // A real full disk: a 24 KiB tmpfs (the sweep's .sweep.json, about 8 KB, must fit; the CSV not).
  // Mounting needs root with CAP_SYS_ADMIN; the file size limit test above covers the same code
  // paths for everyone else.
  if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs (not root here)";
  const std::string mnt = path("mnt");
  std::filesystem::create_directory(mnt);
  if (mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=24k") != 0)
    GTEST_SKIP() << "mount -t tmpfs not permitted here: " << std::strerror(errno);
  struct Unmount {
    std::string dir;
    ~Unmount() { umount2(dir.c_str(), MNT_DETACH); }
  } unmount{mnt};

  sweep("d.yaml",
        std::string(kOneLayer) + "axes:\n  workload.sp2_fraction: {from: 0, to: 1, step: 0.005}\n");
  ASSERT_EQ(msqsim("sweep d.yaml --jobs 2 --out full.csv").code, 0);
  const std::string full = read(path("full.csv"));
  ASSERT_GT(full.size(), 24576u) << "the CSV must not fit the file system";

  const auto r = msqsim("sweep d.yaml --jobs 2 --out mnt/d.csv");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("msqsim: mnt/d.csv: cannot write: No space left on device\n"),
            std::string::npos)
      << r.err;
  const std::string partial = read(path("mnt/d.csv"));
  EXPECT_GT(count_lines(partial), 2);
  expect_whole_rows(partial);
  for (const auto& e : std::filesystem::directory_iterator(mnt))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  // Moved to a disk with room, the rows are resumed from where the disk filled.
  std::filesystem::copy_file(path("mnt/d.csv"), path("d.csv"));
  std::filesystem::copy_file(path("mnt/d.sweep.json"), path("d.sweep.json"));
  const auto resumed = msqsim("sweep d.yaml --jobs 2 --out d.csv --resume");
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming"), std::string::npos) << resumed.err;
  EXPECT_EQ(read(path("d.csv")), full);
}

TEST_F(SweepFaults, UnwritableJsonlStopsTheSweepAtItsFirstLine) {
  sweep("j.yaml", std::string(kOneLayer) + "axes:\n  workload.sp2_fraction: [0.2, 0.5, 0.8]\n");
  const auto r = msqsim("sweep j.yaml --jsonl /dev/full");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("msqsim: /dev/full: cannot write: No space left on device\n"),
            std::string::npos)
      << r.err;
  EXPECT_LE(count_lines(read(path("j.csv"))), 2);
  expect_whole_rows(read(path("j.csv")));
}

TEST_F(SweepFaults, SecondSweepOnTheSameOutIsRefusedWhileTheFirstRuns) {
  sweep("k.yaml", kSlowAxes);
  const pid_t first = start({"sweep", "k.yaml", "--jobs", "1", "--out", "k.csv"}, "first");
  ASSERT_TRUE(wait_lines(path("k.csv"), 3));
  const auto second = msqsim("sweep k.yaml --jobs 1 --out k.csv");
  const auto r = finish(first, "first");
  ASSERT_EQ(r.code, 0) << r.err << "\nthe first sweep must have been running: " << second.err;
  EXPECT_EQ(second.code, 2) << second.err;
  EXPECT_EQ(second.err.rfind("msqsim: k.csv.lock: another msqsim sweep (pid " +
                                 std::to_string(first) + ") is writing k.csv",
                             0),
            0u)
      << second.err;
  EXPECT_EQ(count_lines(second.err), 1) << second.err;
  // The first sweep's results are whole; the lock is gone with it.
  const auto rows = SweepDir::rows(path("k.csv"));
  ASSERT_EQ(rows.size(), 81u);
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i].at("id"), std::to_string(i));
  EXPECT_FALSE(std::filesystem::exists(path("k.csv.lock")));
  // A lock file left by a killed sweep holds no lock.
  write("k.csv.lock", "12345\n");
  EXPECT_EQ(msqsim("sweep k.yaml --out k.csv --resume").code, 0);
}

TEST_F(SweepFaults, RowsLostToAnotherWriterFailTheSweepNamingTheMissingPoints) {
  sweep("m.yaml", kSlowAxes);
  const pid_t pid = start({"sweep", "m.yaml", "--jobs", "1", "--out", "m.csv"}, "m");
  ASSERT_TRUE(wait_lines(path("m.csv"), 4));
  // Something else (an old msqsim, an editor, `>`) cuts the file back to its header.
  const std::string text = read(path("m.csv"));
  ASSERT_EQ(truncate(path("m.csv").c_str(), off_t(text.find('\n') + 1)), 0);
  const auto r = finish(pid, "m");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("msqsim: sweep: m.csv: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" of 81 points missing (ids 0, 1, 2"), std::string::npos) << r.err;
  // The rows it has are whole, and --resume runs exactly the missing points.
  expect_whole_rows(read(path("m.csv")));
  const auto resumed = msqsim("sweep m.yaml --jobs 2 --out m.csv --resume");
  EXPECT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(SweepDir::rows(path("m.csv")).size(), 81u);
}

TEST_F(SweepFaults, ResumeRefusesRowsOfAnotherDefinitionOfTheSweep) {
  sweep("v.yaml", std::string(kOneLayer) + "axes:\n  workload.sp2_fraction: [0.2, 0.5]\n");
  ASSERT_EQ(msqsim("sweep v.yaml --out v.csv").code, 0);
  const std::string before = read(path("v.csv"));
  ASSERT_TRUE(std::filesystem::exists(path("v.sweep.json")));
  // Same columns, other values: the old rows would pass the header check.
  sweep("v.yaml", std::string(kOneLayer) + "axes:\n  workload.sp2_fraction: [0.2, 0.6]\n");
  expect_input_error(
      "sweep v.yaml --out v.csv --resume",
      "msqsim: v.csv: its rows are of another definition of this sweep (v.sweep.json "
      "differs in: axes)");
  EXPECT_EQ(read(path("v.csv")), before);
  // Nor are they merged into this definition's results.
  expect_input_error(
      "sweep v.yaml --merge v.csv --out w.csv",
      "msqsim: v.csv: its rows are of another definition of this sweep (v.sweep.json "
      "differs in: axes)");
  EXPECT_FALSE(std::filesystem::exists(path("w.csv")));
  // A changed `set:` changes the base config the points start from.
  sweep("v.yaml", std::string(kOneLayer) + "  clock_mhz: 150\n" +
                      "axes:\n  workload.sp2_fraction: [0.2, 0.5]\n");
  expect_input_error(
      "sweep v.yaml --out v.csv --resume",
      "msqsim: v.csv: its rows are of another definition of this sweep (v.sweep.json "
      "differs in: base_config, set)");
  // Another shard's rows are not this shard's.
  sweep("v.yaml", std::string(kOneLayer) + "axes:\n  workload.sp2_fraction: [0.2, 0.5]\n");
  expect_input_error("sweep v.yaml --out v.csv --resume --shard 1/2",
                     "msqsim: v.csv: its rows are of --shard all (v.sweep.json), this run is "
                     "--shard 1/2");
  // The unchanged definition resumes (nothing left to run), and so does a file without a record,
  // with a warning.
  const auto same = msqsim("sweep v.yaml --out v.csv --resume");
  EXPECT_EQ(same.code, 0) << same.err;
  EXPECT_EQ(read(path("v.csv")), before);
  std::filesystem::remove(path("v.sweep.json"));
  const auto unrecorded = msqsim("sweep v.yaml --out v.csv --resume");
  EXPECT_EQ(unrecorded.code, 0) << unrecorded.err;
  EXPECT_NE(unrecorded.err.find("warning: v.csv: no v.sweep.json"), std::string::npos)
      << unrecorded.err;
  EXPECT_TRUE(std::filesystem::exists(path("v.sweep.json")));
}

TEST_F(SweepFaults, TornRowInsideTheCsvIsRefusedNamingItsLine) {
  // Only a writer without checked, whole-row appends (an older msqsim on a full disk) leaves one.
  sweep("t.yaml", std::string(kOneLayer) + "axes:\n  workload.sp2_fraction: [0.2, 0.5, 0.8]\n");
  ASSERT_EQ(msqsim("sweep t.yaml").code, 0);
  std::istringstream in(read(path("t.csv")));
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l + "\n");
  write("t.csv", lines[0] + lines[1].substr(0, 20) + lines[2] + lines[3]);
  // The torn row runs into the next one: line 2 has too many cells.
  const auto r = msqsim("sweep t.yaml --resume");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err.rfind("msqsim: t.csv:2: malformed row: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("(delete the line: --resume runs its point again)\n"), std::string::npos)
      << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
}

TEST_F(SweepFaults, HungPointTimesOutAndTheSweepGoesOn) {
  sweep("h.yaml", std::string(kOneLayer) + "axes:\n  workload.sp2_fraction: [0.2, 0.5, 0.8]\n");
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = start({"sweep", "h.yaml", "--jobs", "2", "--timeout", "0.5"}, "h",
                          [] { setenv("MSQSIM_SWEEP_HANG", "1", 1); });
  const auto r = finish(pid, "h");
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_LT(s, 20.0);
  const auto rows = SweepDir::rows(path("h.csv"));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].at("status"), "ok");
  EXPECT_EQ(rows[1].at("status"), "timeout");
  EXPECT_EQ(rows[1].at("message"), "no result after 0.5 s: the worker was killed (--timeout)");
  EXPECT_EQ(rows[1].at("frames_per_s"), "");
  EXPECT_EQ(rows[2].at("status"), "ok");
  EXPECT_NE(r.out.find("(2 ok, 0 skipped, 0 failed, 1 timed out)"), std::string::npos) << r.out;
  // Bad values are usage errors.
  expect_input_error("sweep h.yaml --timeout -1", "msqsim sweep: --timeout expects seconds");
}

TEST_F(SweepFaults, SummariesArePerNetworkAndOtherWorkloadAxes) {
  // The smaller network runs faster on any design: a summary across networks would crown it.
  sweep("n.yaml",
        "axes:\n  workload.network: [resnet18, mobilenet_v2]\n"
        "  workload.sp2_fraction: [0.3, 0.6]\n"
        "  accelerator.lut_core.rows: [16, 32]\n");
  const auto r = msqsim("sweep n.yaml --jobs 2");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto best = SweepDir::rows(path("n.best.csv"));
  ASSERT_EQ(best.size(), 2u);
  EXPECT_EQ(best[0].at("workload.network"), "resnet18");
  EXPECT_EQ(best[1].at("workload.network"), "mobilenet_v2");
  const auto front = SweepDir::rows(path("n.pareto.csv"));
  int mobilenet = 0;
  for (const auto& row : front) mobilenet += row.at("workload.network") == "mobilenet_v2";
  EXPECT_GT(mobilenet, 0);
  EXPECT_LT(mobilenet, int(front.size()));
  EXPECT_NE(r.out.find("Pareto front for workload.network=resnet18 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Best point per device for workload.network=mobilenet_v2 "),
            std::string::npos)
      << r.out;
}

}  // namespace
