#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <map>
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

TEST(Worker, PoolKillsATaskPastItsTimeoutAndTheOthersFinish) {
  std::map<size_t, std::pair<bool, int>> ends;
  const auto t0 = std::chrono::steady_clock::now();
  run_pool(
      2, 6,
      [](size_t i) -> std::string {
        if (i == 2)
          for (;;) pause();  // a hung worker
        return std::to_string(i);
      },
      [&](size_t i, bool ok, const std::string& text, int code) {
        ends[i] = {ok, code};
        if (i == 2) {
          EXPECT_NE(text.find("no result after 0.5 s"), std::string::npos) << text;
        }
      },
      0.5);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(ends.size(), 6u);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(ends[i].first, i != 2) << i;
    if (i == 2) {
      EXPECT_EQ(ends[i].second, kTimedOut);
    }
  }
  EXPECT_GE(s, 0.5);
  EXPECT_LT(s, 5.0);
  // The killed child was reaped: no zombie, no process left.
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(Worker, NoWorkerOutlivesAPoolWhoseCallbackThrows) {
  // The sweep's on_done throws when its output cannot be written; a worker still running (here
  // one that would never end) must not be left behind.
  EXPECT_THROW(run_pool(
                   2, 2,
                   [](size_t i) -> std::string {
                     if (i == 1)
                       for (;;) pause();
                     return "done";
                   },
                   [](size_t, bool, const std::string&, int) -> void {
                     throw InputError("out.csv: cannot write: No space left on device");
                   }),
               InputError);
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}
