// The new engine kinds through the executable: what they cannot do is one line on stderr, exit 2.
#include <gtest/gtest.h>

#include "tests/support/cli_fixture.h"

using msq::testing::CliTest;

namespace {
const std::string kMsd = "'" MSQ_SOURCE_DIR "/configs/examples/msd_like_bitserial.yaml'";
}

TEST_F(CliTest, NewEngineKindsRefuseWhatTheyCannotDo) {
  expect_input_error("run " + kMsd + " --set workload.weight_bits=8",
                     "msqsim: --set workload.weight_bits=8: workload.weight_bits: a "
                     "lut_sp2_bitserial engine takes SP2 rows of 3..7 bits");
  expect_input_error("validate " + kMsd + " --set workload.act_bits=16",
                     "msqsim: --set workload.act_bits=16: workload.act_bits: a dsp48_actpack "
                     "engine packs two activations");
  const std::string cfg = write("c.yaml",
                                "accelerator:\n"
                                "  engines:\n"
                                "    - {impl: lut_sp2_bitserial, lane_offset: 3}\n"
                                "    - {impl: dsp48_actpack}\n");
  expect_input_error("run c.yaml",
                     "msqsim: c.yaml:3: accelerator.engines[0].lane_offset: "
                     "unknown key for a lut_sp2_bitserial engine");
}

// An activation offset given in the engines list is named there, at its line, not as
// accelerator.dsp_core.lane_offset (a key the file does not have).
TEST_F(CliTest, ActPackOffsetFromTheListIsNamedInTheList) {
  write("c.yaml",
        "accelerator:\n"
        "  engines:\n"
        "    - {impl: lut_sp2}\n"
        "    - {impl: dsp48_actpack, packing: true,\n"
        "       lane_offset: 8}\n");
  expect_input_error("validate c.yaml",
                     "msqsim: c.yaml:5: accelerator.engines[1].lane_offset: a dsp48_actpack "
                     "engine packs two activations");
}
