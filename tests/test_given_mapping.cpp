// accelerator.scheduler.mapping: given (docs/mapping.md, "A given mapping"): the tiles of a mapping
// file reach the plan and the report, values stay bit-exact, layers the file does not give are
// searched, and a bad file is exit 2 with one message naming the file, the line and the layer.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "tests/support/cli_fixture.h"

using msq::testing::CliTest;
using msq::testing::Result;

namespace {

const std::string kConfig = "run '" MSQ_SOURCE_DIR "/configs/examples/default.yaml'";

class GivenMapping : public CliTest {
 protected:
  std::string given(const std::string& file) {
    return " --set accelerator.scheduler.mapping=given --set accelerator.scheduler.mapping_file=" +
           path(file);
  }
  // One layer of MobileNetV2 (its depthwise layers are the grouped ones).
  static std::string mobilenet_layer(const std::string& layer) {
    return " --set workload.network=mobilenet_v2 --set 'workload.layers=[" + layer + "]'";
  }
  std::map<std::string, nlohmann::json> layers(const std::string& report) {
    std::map<std::string, nlohmann::json> m;
    const nlohmann::json rep = read_json(report);
    for (const auto& l : rep["layers"]) m[l["name"].get<std::string>()] = l;
    return m;
  }
};

TEST_F(GivenMapping, TilesReachThePlanAndValuesStayBitExact) {
  // Tiles unlike the search's: one output-channel tile per 32 rows, 32-channel k tiles, 7-row
  // pixel tiles, loops N > M > K; a part of one row; a LUT share of one half.
  write("map.csv",
        "# layer tiles\n"
        "layer,tile_m,k_channels,tile_rows,tile_cols,order,lut_share\n"
        "layer1.0.conv1,32,32,7,,NMK,\n"
        "layer2.0.conv2,64,64,1,14,,0.5\n"
        "fc,500,256,1,,,\n");
  const Result s = run(kConfig +
                       " --no-verify --set accelerator.scheduler.mapping=search --json "
                       "search.json");
  ASSERT_EQ(s.code, 0) << s.err;
  const Result g = run(kConfig + given("map.csv") + " --json given.json");
  ASSERT_EQ(g.code, 0) << g.err;
  EXPECT_NE(g.out.find(" 0 mismatches"), std::string::npos) << g.out;
  EXPECT_NE(g.err.find("map.csv gives no mapping for 18 of the 21 layers (conv1, ...): searched"),
            std::string::npos)
      << g.err;
  auto sl = layers("search.json"), gl = layers("given.json");

  const auto& a = gl["layer1.0.conv1"]["mapping"];
  EXPECT_TRUE(a["given"].get<bool>());
  EXPECT_FALSE(a["searched"].get<bool>());
  EXPECT_EQ(a["order"], "NMK");
  EXPECT_EQ(a["m_tiles"], 2);  // 64 rows in tiles of 32
  EXPECT_EQ(a["k_channels"], 32);
  EXPECT_EQ(a["k_tiles"], 2);
  EXPECT_EQ(a["tile_rows"], 7);
  EXPECT_EQ(a["n_tiles"], 8);  // 56 output rows
  EXPECT_NE(gl["layer1.0.conv1"]["cycles"], sl["layer1.0.conv1"]["cycles"]);
  EXPECT_NE(sl["layer1.0.conv1"]["mapping"]["tile_rows"], 7);

  const auto& b = gl["layer2.0.conv2"];
  EXPECT_EQ(b["mapping"]["tile_rows"], 1);
  EXPECT_EQ(b["mapping"]["tile_cols"], 14);
  EXPECT_EQ(b["rows"]["lut_core"], 64);  // half of 128 rows on the LUT engine
  EXPECT_NE(b["cycles"], sl["layer2.0.conv2"]["cycles"]);

  EXPECT_EQ(gl["fc"]["mapping"]["m_tiles"], 2);
  EXPECT_EQ(gl["fc"]["mapping"]["k_channels"], 256);

  // A layer the file does not give: the search's plan, the same cycles as under the search
  // alone when the layers around it are too (the first layer).
  EXPECT_FALSE(gl["conv1"]["mapping"]["given"].get<bool>());
  EXPECT_TRUE(gl["conv1"]["mapping"]["searched"].get<bool>());
  EXPECT_EQ(gl["conv1"]["mapping"]["order"], sl["conv1"]["mapping"]["order"]);
  EXPECT_EQ(gl["conv1"]["mapping"]["tile_rows"], sl["conv1"]["mapping"]["tile_rows"]);
}

TEST_F(GivenMapping, BadFilesAreExitTwoWithFileLineAndLayer) {
  const auto bad = [&](const std::string& text, const std::string& want,
                       const std::string& extra = "") {
    write("bad.csv", text);
    const Result r = run(kConfig + " --no-verify" + given("bad.csv") + extra);
    EXPECT_EQ(r.code, 2) << text;
    EXPECT_NE(r.err.find(want), std::string::npos) << text << "\nstderr: " << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "more than one line: " << r.err;
  };
  const std::string head = "layer,tile_m,k_channels,tile_rows\n";
  bad(head + "conv9,32,,4\n",
      "bad.csv:2: layer: expected a layer of the network (got conv9); did you mean 'conv1'?");
  bad("layer,tile_m,tile_rows\nconv1,32,4\n", "bad.csv:1: k_channels: missing column");
  bad("layer,tile_m,k_channels,tile_rows,tiles\nconv1,32,,4,1\n",
      "bad.csv:1: tiles: unknown column");
  bad(head + "conv1,32,,0\n",
      "bad.csv:2: tile_rows: layer conv1: expected an integer of at least "
      "1 (got 0)");
  bad(head + "conv1,-4,,2\n", "bad.csv:2: tile_m: layer conv1: expected an integer of at least 1");
  bad(head + "conv1,3.5,,2\n", "bad.csv:2: tile_m: layer conv1: expected an integer");
  bad(head + "conv1,32,,\n",
      "bad.csv:2: tile_rows: layer conv1: expected an integer of at least "
      "1 (empty)");
  bad(head + "conv1,32,,4\n# again\nconv1,64,,4\n",
      "bad.csv:4: layer: layer conv1: given twice (first on line 2)");
  bad(head + "conv1,32\n", "bad.csv:2: expected 4 cells, as the header has (got 2)");
  bad("layer,tile_m,k_channels,tile_rows,order\nconv1,32,,4,NNK\n",
      "bad.csv:2: order: layer conv1: expected the three loops N, K, M");
  bad("layer,tile_m,k_channels,tile_rows,lut_share\nconv1,32,,4,1.5\n",
      "bad.csv:2: lut_share: layer conv1: expected a number 0..1 (got 1.5)");
  bad("# nothing\n", "bad.csv: empty mapping file");
  // Found when the layer is planned: the tiles do not fit, the share cannot be met, a grouped
  // layer's K split.
  bad(head + "layer4.0.conv2,512,128,7\n",
      "bad.csv:2: tile_m: layer layer4.0.conv2: the given tiles do not fit the buffers (order "
      "NKM: output tile (partial sums kept across K) 100352 bytes > its buffer slot's 65536)");
  bad("layer,tile_m,k_channels,tile_rows,lut_share\nconv1,64,,4,0.9\n",
      "bad.csv:2: lut_share: layer conv1: 58 of 64 rows on the SP2 engine (lut_core) is more "
      "than the layer's 43 SP2 rows it can run");
  // The keys themselves.
  {
    const Result r = run(kConfig + " --no-verify --set accelerator.scheduler.mapping=given");
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("accelerator.scheduler.mapping_file: expected a mapping file (CSV) for "
                         "accelerator.scheduler.mapping: given"),
              std::string::npos)
        << r.err;
  }
  {
    const Result r = run(kConfig + " --no-verify" + given("nothere.csv"));
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("accelerator.scheduler.mapping_file: expected an existing mapping file"),
              std::string::npos)
        << r.err;
  }
  {
    write("ok.csv", head + "conv1,32,,4\n");
    const Result r =
        run(kConfig + " --no-verify --set accelerator.scheduler.mapping_file=" + path("ok.csv"));
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("used only with accelerator.scheduler.mapping: given"), std::string::npos)
        << r.err;
  }
}

TEST_F(GivenMapping, BoxesOfSeveralRowsAndPartOfTheColumnsRunVerified) {
  // Pixel tiles of 8 output rows by 20 output columns (a box, as MSD's o x o tiles), the edge
  // boxes clipped to the output. layer1.0.conv1: 64 channels of 56 x 56, 3 x 3, stride 1, pad 1,
  // output 56 x 56: boxes at output rows 0, 8, ..., 48 (7) and columns 0, 20, 40 (20, 20, 16
  // wide): 21 boxes, the largest 160 pixels.
  // Input box of output rows oh0..oh0+7: input rows oh0-1 .. oh0+8 cut to the image: 9 rows for
  // the first and the last box row, 10 for the 5 between: 9 + 5 x 10 + 9 = 68 rows. Columns:
  // ow0 0 (20 wide): input 0..20, 21; ow0 20: 19..40, 22; ow0 40 (16 wide): 39..55, 17: 60. So
  // the boxes read 68 x 60 = 4080 input pixels of 64 one-byte channels, 261120 bytes, whatever
  // the k tiles (32 channels: two runs of 32 bytes per pixel), once with one output-channel tile.
  // Outputs: 56 x 56 x 64 = 200704 bytes, each written once.
  for (const std::string k : {"64", "32"}) {
    SCOPED_TRACE("k_channels " + k);
    write("box.csv",
          "layer,tile_m,k_channels,tile_rows,tile_cols\n"
          "layer1.0.conv1,64," +
              k + ",8,20\n");
    const Result r = run(kConfig + " --set 'workload.layers=[layer1.0.conv1]'" + given("box.csv") +
                         " --json box.json");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find(" 0 mismatches"), std::string::npos) << r.out;
    const nlohmann::json m = layers("box.json").at("layer1.0.conv1")["mapping"];
    EXPECT_TRUE(m["given"].get<bool>());
    EXPECT_EQ(m["tile_rows"], 8);
    EXPECT_EQ(m["tile_cols"], 20);
    EXPECT_EQ(m["n_tiles"], 21);
    EXPECT_EQ(m["tile_n"], 160);
    EXPECT_EQ(m["input_dram_bytes"], 261120);
    EXPECT_EQ(m["output_dram_bytes"], 200704);
  }
  // A depthwise layer's channel tiles in boxes: features.1.dw, 32 channels of 112 x 112, 3 x 3,
  // stride 1, pad 1. Boxes of 8 rows by 30 columns: 14 box rows, input rows 9 + 12 x 10 + 9 =
  // 138; columns 0, 30, 60, 90 (30, 30, 30, 22 wide), input 31 + 32 + 32 + 23 = 118; 16284
  // pixels, each channel tile loading only its 8 channels: 32 bytes a pixel over the 4 tiles,
  // 521088 bytes.
  write("dwbox.csv",
        "layer,tile_m,k_channels,tile_rows,tile_cols\n"
        "features.1.dw,8,,8,30\n");
  const Result d =
      run(kConfig + mobilenet_layer("features.1.dw") + given("dwbox.csv") + " --json dwbox.json");
  ASSERT_EQ(d.code, 0) << d.err;
  EXPECT_NE(d.out.find(" 0 mismatches"), std::string::npos) << d.out;
  const nlohmann::json dm = layers("dwbox.json").at("features.1.dw")["mapping"];
  EXPECT_EQ(dm["n_tiles"], 56);
  EXPECT_EQ(dm["input_dram_bytes"], 521088);
  EXPECT_EQ(dm["output_dram_bytes"], 112 * 112 * 32);
}

TEST_F(GivenMapping, DepthwiseChannelTilesAndAMissingKSplitAreChecked) {
  // A grouped layer: the output-channel tile is a channel tile; K cannot be split.
  write("dw.csv",
        "layer,tile_m,k_channels,tile_rows\n"
        "features.1.dw,8,,28\n");
  const Result r = run(kConfig + " --no-verify" + mobilenet_layer("features.1.dw") +
                       given("dw.csv") + " --json dw.json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto l = layers("dw.json").at("features.1.dw");
  EXPECT_TRUE(l["mapping"]["given"].get<bool>());
  EXPECT_EQ(l["mapping"]["tile_rows"], 28);
  EXPECT_GT(l["mapping"]["m_tiles"].get<int>(), 1);

  write("dw2.csv",
        "layer,tile_m,k_channels,tile_rows\n"
        "features.1.dw,8,8,28\n");
  const Result b =
      run(kConfig + " --no-verify" + mobilenet_layer("features.1.dw") + given("dw2.csv"));
  EXPECT_EQ(b.code, 2);
  EXPECT_NE(b.err.find("dw2.csv:2: k_channels: layer features.1.dw: a grouped convolution does "
                       "not split its input channels"),
            std::string::npos)
      << b.err;
}

}  // namespace
