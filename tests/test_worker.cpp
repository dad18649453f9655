#include <gtest/gtest.h>

#include <set>

#include "models/error.h"
#include "sim/worker.h"

using namespace msq;

TEST(Worker, ReturnsTheChildsResult) {
  EXPECT_EQ(run_in_child([] { return std::string(100000, 'x'); }).size(), 100000u);
}

TEST(Worker, InputErrorInTheChildIsExitCodeTwo) {
  try {
    run_in_child([]() -> std::string { throw InputError("bad.yaml:3: a.b: expected a number"); });
    FAIL() << "no error";
  } catch (const WorkerError& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_STREQ(e.what(), "bad.yaml:3: a.b: expected a number");
  }
}

TEST(Worker, PoolRunsEveryTaskOnceAndReportsFailures) {
  std::set<size_t> done;
  int failures = 0;
  run_pool(
      3, 20,
      [](size_t i) -> std::string {
        if (i == 7) throw std::runtime_error("seven");
        return std::to_string(i * i);
      },
      [&](size_t i, bool ok, const std::string& text, int code) {
        EXPECT_TRUE(done.insert(i).second);
        if (ok)
          EXPECT_EQ(text, std::to_string(i * i));
        else {
          ++failures;
          EXPECT_EQ(text, "seven");
          EXPECT_EQ(code, 1);
        }
      });
  EXPECT_EQ(done.size(), 20u);
  EXPECT_EQ(failures, 1);
}
