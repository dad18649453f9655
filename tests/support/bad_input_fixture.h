// The fixture of the bad-input rounds (tests/test_hostile*.cpp): a config small enough that a
// case which gets past the check still finishes quickly, and the one-line exit-2 check each case
// makes.
#pragma once

#include <string>

#include "tests/support/cli_fixture.h"

namespace msq::testing {

class BadInputTest : public CliTest {
 protected:
  // One small layer of the default network (resnet18): a real plan and simulation, but short.
  std::string small_config() {
    return write("c.yaml",
                 "device: xc7z020\nclock_mhz: 100\naccelerator:\n  lut_core: {rows: 8, cols: 8}\n"
                 "  dsp_core: {rows: 4, cols: 8}\nworkload: {layers: [fc]}\n");
  }
  // Exit 2 and one line on stderr that holds `part`.
  void expect_line_with(const Result& r, const std::string& part, const std::string& what) {
    EXPECT_EQ(r.code, 2) << what << "\nstderr: " << r.err;
    EXPECT_NE(r.err.find(part), std::string::npos) << what << "\nstderr: " << r.err;
    ASSERT_FALSE(r.err.empty()) << what;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << what << ": more than one line: " << r.err;
  }
  // The --set options that run a mapping file (relative to the test's directory).
  static std::string given(const std::string& file) {
    return " --set accelerator.scheduler.mapping=given --set accelerator.scheduler.mapping_file=" +
           file;
  }
};

}  // namespace msq::testing
