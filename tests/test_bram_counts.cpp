// BRAM accesses as the blocks count them (docs/energy.md, "BRAM accesses"): one small convolution
// with a known tiling, its buffers' bram_reads and bram_writes against a hand calculation, and
// the energy report's buffer energy against those counts.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/cli_fixture.h"

using msq::testing::CliTest;
using msq::testing::Result;
using nlohmann::json;

namespace {

class BramCounts : public CliTest {
 protected:
  // One 3x3 convolution, 8 input channels of 6x6 (padding 1: 36 output columns), 24 output
  // channels, every row SP2 at 4 bits on a 24 x 8 LUT core; 8-bit activations, 32-bit
  // accumulators, 8-bit outputs. tile_n 12 and tile_k 36 cut it into 3 pixel tiles of two output
  // rows (12 columns) and 2 k tiles of 4 channels (tk = 4 x 9 = 36).
  json run_json(const std::string& extra = "", const std::string& lut_impl = "lut_sp2",
                const std::string& dsp = "{impl: dsp48, name: dsp_core, rows: 4, cols: 8}",
                const std::string& sp2_fraction = "1.0") {
    write("one.yaml",
          "name: one\nsource: test\nlayers:\n"
          "  - {name: c, type: conv, input: [8, 6, 6], out_channels: 24, kernel: 3, stride: 1, "
          "padding: 1}\n");
    write("c.yaml",
          "device: xc7z020\nclock_mhz: 100\naccelerator:\n"
          "  engines:\n"
          "    - {impl: " +
              lut_impl +
              ", name: lut_core, rows: 24, cols: 8}\n"
              "    - " +
              dsp +
              "\n"
              "  accumulator: {bits: 32}\n"
              "  scheduler: {tile_n: 12, tile_k: 36}\n"
              "workload: {network: one.yaml, sp2_fraction: " +
              sp2_fraction +
              ", weight_bits: 4, act_bits: 8,\n"
              "           last_layer_accumulators: false}\n");
    const Result r = run("run c.yaml --json r.json" + extra);
    EXPECT_EQ(r.code, 0) << r.err;
    return read_json("r.json");
  }
  static int64_t stat(const json& l, const std::string& block, const std::string& counter) {
    return l["stats"][block][counter]["value"].get<int64_t>();
  }
};

TEST_F(BramCounts, OneConvolutionByHand) {
  const json j = run_json();
  const json& l = j["layers"][0];
  // The tiling the hand calculation assumes.
  ASSERT_EQ(l["tiling"]["tiles"].get<int64_t>(), 3);
  ASSERT_EQ(l["tiling"]["k_tiles"].get<int64_t>(), 2);
  ASSERT_EQ(l["mapping"]["tile_rows"].get<int64_t>(), 2);
  ASSERT_EQ(l["mapping"]["tile_cols"].get<int64_t>(), 6);
  ASSERT_TRUE(l["tiling"]["weights_resident"].get<bool>());
  ASSERT_EQ(stat(l, "lut_core", "jobs"), 6);  // 3 tiles x 2 k tiles x one block of 24 rows

  // A job of 12 columns runs ceil(12 / 8) = 2 passes: 8 columns, then 4.
  // Weights: each of the 36 steps of a pass reads the block's 24 rows x 4 bits = 96 bits, two
  // 64-bit BRAM words: 2 passes x 36 x 2 = 144 per job, x 6 jobs = 864.
  EXPECT_EQ(stat(l, "weight_buffer_lut_core", "bram_reads"), 864);
  // Activations: a step of the first pass reads 8 x 8 = 64 bits (1 word), of the second 4 x 8 =
  // 32 bits (1 word): 36 x 2 = 72 per job, x 6 = 432.
  EXPECT_EQ(stat(l, "input_buffer", "bram_reads"), 432);
  // Results, one word per column of the block's 24 rows: after k tile 0, 24 x 32-bit sums = 768
  // bits = 12 words; after k tile 1 (requantized), 24 x 8 bits = 192 bits = 3 words. Per pixel
  // tile 12 x (12 + 3) = 180, x 3 tiles = 540 writes. Before k tile 1 the sums are read back:
  // 12 x 12 = 144 per tile, 432. The DMA drains each tile's 12 x 24 output bytes in 64-bit
  // words: 288 / 8 = 36 per tile, 108 reads.
  EXPECT_EQ(stat(l, "output_buffer", "bram_writes"), 540);
  EXPECT_EQ(stat(l, "output_buffer", "bram_reads"), 432 + 108);
  // DMA fills, in 64-bit words. Inputs: a k tile's 4 channels (4 bytes a pixel) of the input rows
  // a tile of output rows r, r + 1 reads (r - 1 .. r + 2, within the image): rows 0-2, 1-4, 3-5,
  // 18, 24 and 18 pixels: 72, 96 and 72 bytes, 9 + 12 + 9 words; x 2 k tiles = 60. Weights:
  // resident, one load of 24 rows x 72 steps x 4 bits = 864 bytes, 108 words.
  EXPECT_EQ(stat(l, "input_buffer", "bram_writes"), 60);
  EXPECT_EQ(l["dram_bytes_by_stream"]["inputs"].get<int64_t>(), 60 * 8);
  EXPECT_EQ(stat(l, "weight_buffer_lut_core", "bram_writes"), 108);
  EXPECT_EQ(l["dram_bytes_by_stream"]["weights"].get<int64_t>(), 108 * 8);
  EXPECT_EQ(stat(l, "weight_buffer_dsp_core", "bram_reads"), 0);  // no rows on the DSP core
  EXPECT_EQ(stat(l, "weight_buffer_dsp_core", "bram_writes"), 0);

  // The energy report takes these counts: xc7's 10 pJ per read and per write.
  const int64_t reads = 864 + 432 + 432 + 108, writes = 540 + 60 + 108;
  const json& a = j["total"]["energy"]["actions"];
  EXPECT_EQ(a["buffers.read"]["count"].get<int64_t>(), reads);
  EXPECT_EQ(a["buffers.write"]["count"].get<int64_t>(), writes);
  EXPECT_NEAR(l["energy_by_block"]["buffers"].get<double>(), (reads + writes) * 10e-12, 1e-18);
}

// Counting must not depend on whether values are computed.
TEST_F(BramCounts, SameCountsWithoutValues) {
  const json with = run_json();
  const json without = run_json(" --no-verify");
  for (const char* b : {"input_buffer", "output_buffer", "weight_buffer_lut_core"})
    for (const char* c : {"bram_reads", "bram_writes"})
      EXPECT_EQ(stat(with["layers"][0], b, c), stat(without["layers"][0], b, c)) << b << c;
}

// A bit-serial PE holds its weight and activation for all the digits of a step: the same reads
// as the bit-parallel engine, though its jobs take up to twice the cycles.
TEST_F(BramCounts, BitSerialDigitsReadNothingMore) {
  const json parallel = run_json();
  const json serial = run_json("", "lut_sp2_bitserial");
  const json& p = parallel["layers"][0];
  const json& s = serial["layers"][0];
  ASSERT_GT(stat(s, "lut_core", "busy"), stat(p, "lut_core", "busy"));
  EXPECT_EQ(stat(s, "weight_buffer_lut_core", "bram_reads"), 864);
  EXPECT_EQ(stat(s, "input_buffer", "bram_reads"), 432);
}

// The activation-packed DSP core's packed slice takes two activations per step on its A port: a
// pass computes 2 x cols columns, so fewer passes read the weights again.
TEST_F(BramCounts, ActivationPackedDspReadsTwoActivationsPerSlice) {
  // The same convolution, every row 4-bit fixed point on a 24 x 4 dsp48_actpack core.
  const auto layer = [&](bool packing) {
    return run_json("", "lut_sp2",
                    std::string("{impl: dsp48_actpack, name: dsp_core, rows: 24, cols: 4, "
                                "packing: ") +
                        (packing ? "true}" : "false}"),
                    "0.0")["layers"][0];
  };
  const json packed = layer(true), single = layer(false);
  ASSERT_EQ(stat(packed, "dsp_core", "jobs"), 6);
  ASSERT_LT(stat(packed, "dsp_core", "busy"), stat(single, "dsp_core", "busy"));
  // Packed: a job of 12 columns runs ceil(12 / 8) = 2 passes (8 columns, then 4). Weights:
  // 2 x 36 steps x 2 words (24 rows x 4 bits = 96 bits) = 144 a job, 864 in all; activations:
  // 36 x (1 word of 8 x 8 bits + 1 word of 4 x 8 bits) = 72 a job, 432 in all.
  EXPECT_EQ(stat(packed, "weight_buffer_dsp_core", "bram_reads"), 864);
  EXPECT_EQ(stat(packed, "input_buffer", "bram_reads"), 432);
  // One column a slice: ceil(12 / 4) = 3 passes of 4 columns (32 bits, 1 word): weights
  // 3 x 36 x 2 = 216 a job, 1296; activations 3 x 36 x 1 = 108 a job, 648.
  EXPECT_EQ(stat(single, "weight_buffer_dsp_core", "bram_reads"), 1296);
  EXPECT_EQ(stat(single, "input_buffer", "bram_reads"), 648);
  // The results are the same either way (as in OneConvolutionByHand).
  EXPECT_EQ(stat(packed, "output_buffer", "bram_writes"), 540);
  EXPECT_EQ(stat(single, "output_buffer", "bram_writes"), 540);
}

}  // namespace
