// Tile timing against per-cycle stepping oracles: the cores advance time by a job's cycle count,
// the oracles below step the PE arrays one clock at a time, and the two must agree exactly.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "models/tiler.h"

using namespace msq;

namespace {

// An output-stationary array stepped cycle by cycle: every cycle each active PE takes one
// operand pair for its current output column and k; after tk operands of a column pass the array
// moves to the next pass. With packing, after every `chain` operands of a pass (and at its end)
// the PEs stop issuing for drain_cycles while P is split into lanes. A PE's result leaves the
// pipeline `depth` cycles after its last operand entered.
int64_t step_array(int rows_used, int cols, int64_t tn, int64_t tk, int depth, bool packed,
                   int64_t chain, int drain_cycles) {
  struct Pe {
    int64_t col = -1, done_k = 0;
  };
  std::vector<Pe> pes(size_t(rows_used) * size_t(cols));
  const int64_t passes = (tn + cols - 1) / cols;
  int64_t pass = 0, k = 0, in_chain = 0, drain_left = 0, cycle = 0, last_issue = -1;
  while (pass < passes) {
    if (drain_left > 0) {
      --drain_left;
    } else {
      for (int r = 0; r < rows_used; ++r)
        for (int c = 0; c < cols; ++c) {
          Pe& pe = pes[size_t(r) * cols + c];
          const int64_t col = pass * cols + c;
          if (col >= tn) continue;  // idle PE in the last pass
          if (pe.col != col) pe.col = col, pe.done_k = 0;
          ++pe.done_k;
        }
      last_issue = cycle;
      ++k;
      if (packed && (++in_chain == chain || k == tk)) drain_left = drain_cycles, in_chain = 0;
      if (k == tk) {
        k = 0;
        in_chain = 0;
        ++pass;
        if (packed && pass == passes) {
          // The last drain still occupies the array before results leave.
          last_issue = cycle + drain_cycles;
        }
      }
    }
    ++cycle;
  }
  return last_issue + 1 + depth;
}

}  // namespace

TEST(CoreTiming, LutJobEqualsPerCycleOracleOnRandomTiles) {
  std::mt19937 rng(1);
  for (int i = 0; i < 40; ++i) {
    LutCoreConfig c;
    c.rows = std::uniform_int_distribution<int>(1, 16)(rng);
    c.cols = std::uniform_int_distribution<int>(1, 16)(rng);
    c.pipeline_depth = std::uniform_int_distribution<int>(1, 6)(rng);
    const int64_t tn = std::uniform_int_distribution<int>(1, 100)(rng);
    const int64_t tk = std::uniform_int_distribution<int>(1, 80)(rng);
    const int rows_used = std::uniform_int_distribution<int>(1, c.rows)(rng);
    EXPECT_EQ(lut_job_cycles(c, tn, tk),
              step_array(rows_used, c.cols, tn, tk, c.pipeline_depth, false, 0, 0))
        << "rows " << c.rows << " cols " << c.cols << " tn " << tn << " tk " << tk;
  }
}

TEST(CoreTiming, DspJobEqualsPerCycleOracleOnRandomTiles) {
  std::mt19937 rng(2);
  for (int i = 0; i < 40; ++i) {
    DspCoreConfig c;
    c.rows = std::uniform_int_distribution<int>(1, 16)(rng);
    c.cols = std::uniform_int_distribution<int>(1, 16)(rng);
    c.pipeline_depth = std::uniform_int_distribution<int>(1, 6)(rng);
    c.drain_cycles = std::uniform_int_distribution<int>(1, 3)(rng);
    const bool packed = i % 2 == 0;
    const int64_t chain = std::uniform_int_distribution<int>(1, 30)(rng);
    const int64_t tn = std::uniform_int_distribution<int>(1, 100)(rng);
    const int64_t tk = std::uniform_int_distribution<int>(1, 80)(rng);
    EXPECT_EQ(dsp_job_cycles(c, tn, tk, packed, chain),
              step_array(c.rows, c.cols, tn, tk, c.pipeline_depth, packed, chain, c.drain_cycles))
        << "cols " << c.cols << " tn " << tn << " tk " << tk << " packed " << packed << " chain "
        << chain << " drain " << c.drain_cycles;
  }
}
