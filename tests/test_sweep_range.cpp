// Sweep ranges and point enumeration, in process (no simulation).
#include <gtest/gtest.h>
#include <unistd.h>

#include "models/error.h"
#include "sim/sweep.h"

namespace {

TEST(SweepRange, StepsWithoutDriftAndInclusiveEnd) {
  const auto v = msq::range_values("0", "1", "0.05");
  ASSERT_EQ(v.size(), 21u);
  EXPECT_EQ(v[0], "0.00");
  EXPECT_EQ(v[6], "0.30");  // 6 * 0.05 is 0.30000000000000004 in binary
  EXPECT_EQ(v[20], "1.00");
  // 0.3 / 0.1 = 2.9999999999999996: the end must still be included.
  EXPECT_EQ(msq::range_values("0", "0.3", "0.1"),
            (std::vector<std::string>{"0.0", "0.1", "0.2", "0.3"}));
  EXPECT_EQ(msq::range_values("8", "32", "8"), (std::vector<std::string>{"8", "16", "24", "32"}));
  EXPECT_EQ(msq::range_values("0.25", "1", "0.5"), (std::vector<std::string>{"0.25", "0.75"}));
  EXPECT_EQ(msq::range_values("-0.1", "0.1", "0.1"),
            (std::vector<std::string>{"-0.1", "0.0", "0.1"}));
}

TEST(SweepRange, BadRangesThrow) {
  EXPECT_THROW(msq::range_values("0", "1", "0"), msq::InputError);
  EXPECT_THROW(msq::range_values("0", "1", "-0.1"), msq::InputError);
  EXPECT_THROW(msq::range_values("1", "0", "0.1"), msq::InputError);
  EXPECT_THROW(msq::range_values("0", "x", "0.1"), msq::InputError);
  EXPECT_THROW(msq::range_values("0", "1e9", "1"), msq::InputError);
}

TEST(SweepRange, FirstAxisVariesSlowest) {
  msq::SweepSpec s;
  s.sets = {"workload.layers=[fc]"};
  s.axes = {{"device", 1, {"xc7z020", "xc7z045"}},
            {"workload.sp2_fraction", 2, {"0.0", "0.5", "1.0"}}};
  ASSERT_EQ(msq::sweep_size(s), 6u);
  EXPECT_EQ(msq::point_values(s, 0), (std::vector<std::string>{"xc7z020", "0.0"}));
  EXPECT_EQ(msq::point_values(s, 2), (std::vector<std::string>{"xc7z020", "1.0"}));
  EXPECT_EQ(msq::point_values(s, 4), (std::vector<std::string>{"xc7z045", "0.5"}));
  EXPECT_EQ(msq::point_sets(s, 5),
            (std::vector<std::string>{"workload.layers=[fc]", "device=xc7z045",
                                      "workload.sp2_fraction=1.0"}));
}

TEST(SweepRange, CsvCellsWithCommasAndQuotesRoundTrip) {
  const std::vector<std::string> cells = {"3", "error", "[a, b]", "say \"no\", twice", ""};
  const std::string line = msq::csv_line(cells);
  EXPECT_EQ(line, "3,error,\"[a, b]\",\"say \"\"no\"\", twice\",\n");
  char tmpl[] = "/tmp/msq_csv_XXXXXX";
  const int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  const std::string text = "id,status,x,message,more\n" + line;
  ASSERT_EQ(write(fd, text.data(), text.size()), ssize_t(text.size()));
  close(fd);
  const auto t = msq::read_sweep_csv(tmpl, false);
  unlink(tmpl);
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.rows[0], cells);
}

}  // namespace
