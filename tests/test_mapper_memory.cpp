// The mapping search's estimate of ordinary (not grouped) layers where the DMA bounds the layer
// (docs/mapping.md, "The search"): a pipeline of the steps with each stream on its ports and the
// DRAM's bursts and row openings, as for grouped layers. Counting only bytes over the bandwidth
// plus setup, the estimate was about half the simulation on these layers, whether their tiles are
// whole rows or part rows. ResNet-18 on MSD's PYNQ-Z2 design (docs/msd.md), with given tiles:
// the ones the search chose for these layers before (layer4.0.conv2 7 x 7 whole rows, K in 16
// tiles; layer2.0.conv2 with tile_n 14: 1 x 14 part rows, K in 2 tiles).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "tests/support/one_layer.h"

using namespace msq::testing;

// Both layers are DRAM-bound on this board; the estimate within 10% of the simulated cycles
// (before the pipeline estimate: 0.503 and 0.535 of them).
TEST(MapperMemory, MemoryBoundOrdinaryLayersEstimateNearTheSimulation) {
  struct Case {
    const char* layer;
    const char* row;  // tile_m, k_channels, tile_rows, tile_cols
    int64_t tile_rows, tile_cols, k_tiles;
  };
  for (const Case& k : {Case{"layer4.0.conv2", "128,32,7,", 7, 7, 16},
                        Case{"layer2.0.conv2", "128,64,1,14", 1, 14, 2}}) {
    const GivenLayer f = run_given_layer("resnet18", k.layer, k.row);
    std::printf("%s (%s): %lld cycles, estimate %lld (%.3f)\n", k.layer, k.row, (long long)f.cycles,
                (long long)f.est, double(f.est) / double(f.cycles));
    ASSERT_EQ(f.tile_rows, k.tile_rows) << k.layer;
    ASSERT_EQ(f.tile_cols, k.tile_cols) << k.layer;
    ASSERT_EQ(f.k_tiles, k.k_tiles) << k.layer;
    EXPECT_TRUE(f.memory_bound) << k.layer;
    EXPECT_NEAR(double(f.est), double(f.cycles), 0.10 * double(f.cycles))
        << k.layer << " " << k.row;
  }
}
