// The project's CSV writer (sim/csv.h) and atomic writer (sim/atomic_file.h) on failing writes:
// the message names the file and the OS reason, and no torn row or partial file is left.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "models/error.h"
#include "sim/atomic_file.h"
#include "sim/csv.h"
#include "tests/support/in_child.h"

namespace {

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct TmpDir {
  std::string dir;
  TmpDir() {
    std::string t = (std::filesystem::temp_directory_path() / "msq_csv_XXXXXX").string();
    dir = mkdtemp(t.data()) ? t : "";
  }
  ~TmpDir() { std::filesystem::remove_all(dir); }
};

TEST(SweepCsv, SplitUndoesLineAndTextJoinsRows) {
  const std::vector<std::string> cells = {"1", "a,b", "say \"x\"", ""};
  std::string line = msq::csv_line(cells);
  ASSERT_EQ(line.back(), '\n');
  line.pop_back();
  bool ok = false;
  EXPECT_EQ(msq::csv_split(line, ok), cells);
  EXPECT_TRUE(ok);
  msq::csv_split("1,\"open", ok);
  EXPECT_FALSE(ok);
  EXPECT_EQ(msq::csv_text({"h1", "h2"}, {{"1", "2"}, {"3", "4"}}), "h1,h2\n1,2\n3,4\n");
}

TEST(SweepCsv, AppendToAFullDeviceThrowsNamingFileAndReason) {
  msq::AppendFile f;
  f.open("/dev/full", false);
  try {
    f.append("a,b\n");
    FAIL() << "no error";
  } catch (const msq::InputError& e) {
    EXPECT_STREQ(e.what(), "/dev/full: cannot write: No space left on device");
  }
  EXPECT_FALSE(f.is_open());
}

TEST(SweepCsv, AppendPastAFileSizeLimitLeavesOnlyWholeLines) {
  TmpDir d;
  const std::string p = d.dir + "/rows.csv";
  // In a child: the limit and the ignored SIGXFSZ must not leak into the other tests.
  const int rows = msq::testing::in_child<int>([&] {
    signal(SIGXFSZ, SIG_IGN);
    const rlimit lim{100, 100};
    setrlimit(RLIMIT_FSIZE, &lim);
    msq::AppendFile f;
    f.open(p, true);
    int n = 0;
    try {
      for (; n < 100; ++n) f.append("0123456789,0123456789,xyz\n");  // 26 bytes
    } catch (const msq::InputError& e) {
      if (std::string(e.what()) != p + ": cannot write: File too large") return -1;
    }
    return n;
  });
  EXPECT_EQ(rows, 3);  // 78 bytes fit, the fourth line is torn at 100 and cut off
  EXPECT_EQ(slurp(p).size(), 78u);
}

TEST(SweepCsv, AtomicWriteThatFailsKeepsTheOldFileAndLeavesNoTemporary) {
  TmpDir d;
  const std::string p = d.dir + "/out.csv";
  msq::write_file_atomic(p, "old\n");
  const bool threw = msq::testing::in_child<bool>([&] {
    signal(SIGXFSZ, SIG_IGN);
    const rlimit lim{1000, 1000};
    setrlimit(RLIMIT_FSIZE, &lim);
    try {
      msq::write_file_atomic(p, std::string(5000, 'x'));
    } catch (const msq::InputError& e) {
      return std::string(e.what()) == p + ": cannot write: File too large";
    }
    return false;
  });
  EXPECT_TRUE(threw);
  EXPECT_EQ(slurp(p), "old\n");
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(d.dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1u);
}

}  // namespace
