// The mapping search's estimate of depthwise channel tiles that read part of each input row
// (docs/mapping.md, "Input loads in DRAM" and "The search"): such a tile reads each of its input
// rows in its own place in DRAM, an image row from the next, and a box writes each of its output
// rows in its own, so the DRAM opens a row for each place, not one for the whole load as if the
// rows were contiguous. Where the DRAM bounds the pipeline the estimate must count them to come
// near the simulation. MSD's MobileNet-V2 depthwise layers on its PYNQ-Z2 design (docs/msd.md),
// with given tiles (the schedule MSD's board ran for Conv2 and Conv8, and part of Conv2's rows).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "tests/support/one_layer.h"

using namespace msq::testing;

// Channel tiles of boxes and of several rows' part (Conv2: 110 x 110 outputs, 32 channels; Conv8:
// 54 x 54, 144 channels), DRAM-bound on this board: the estimate within 5% of the simulated
// cycles. Counting one DRAM row per load and per write instead (as if the rows were contiguous),
// the estimate was 10% (Conv2 22 x 22 boxes), 12% (Conv2 4 x 22) and 8% (Conv8 18 x 18) under it.
TEST(MapperRows, PartRowChannelTilesEstimateNearTheSimulation) {
  struct Case {
    const char* layer;
    const char* row;  // tile_m, k_channels, tile_rows, tile_cols
    int64_t tile_rows, tile_cols;
  };
  for (const Case& k : {Case{"Conv2", "8,,22,22", 22, 22}, Case{"Conv2", "8,,4,22", 4, 22},
                        Case{"Conv8", "18,,18,18", 18, 18}}) {
    const GivenLayer f = run_given_layer("msd_mobilenet_v2", k.layer, k.row);
    std::printf("%s (%s): %lld cycles, estimate %lld (%.3f), %lld channel tiles\n", k.layer, k.row,
                (long long)f.cycles, (long long)f.est, double(f.est) / double(f.cycles),
                (long long)f.m_tiles);
    ASSERT_EQ(f.tile_rows, k.tile_rows) << k.layer;
    ASSERT_EQ(f.tile_cols, k.tile_cols) << k.layer;
    EXPECT_GT(f.m_tiles, 1) << k.layer;
    EXPECT_NEAR(double(f.est), double(f.cycles), 0.05 * double(f.cycles))
        << k.layer << " " << k.row;
  }
}
