// tools/msd_compare.py (the MSD comparison of docs/msd.md) on one point: the table has a row per
// MSD layer, and every msqsim figure in it is the one msqsim's own JSON report gives (an override
// that changes the design changes the table with it); missing inputs are exit 2 with a message.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/cli_fixture.h"

using msq::testing::CliTest;
using msq::testing::Result;

namespace {

const std::string kTool =
    "/usr/bin/python3 '" MSQ_SOURCE_DIR "/tools/msd_compare.py' --msqsim '" MSQSIM_EXE "'";

// MSD's ResNet-18 layers on the PYNQ-Z2 and their cycles, read from the reference file the tool
// uses (not repeated here).
std::vector<std::pair<std::string, long>> reference_rows(const std::string& board,
                                                         const std::string& net) {
  std::ifstream in(MSQ_SOURCE_DIR "/tools/msd_reference.csv");
  std::vector<std::pair<std::string, long>> rows;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#' || line.rfind("board,", 0) == 0) continue;
    std::stringstream ss(line);
    std::string b, n, layer, cycles;
    std::getline(ss, b, ',');
    std::getline(ss, n, ',');
    std::getline(ss, layer, ',');
    std::getline(ss, cycles, ',');
    if (b == board && n == net) rows.emplace_back(layer, std::stol(cycles));
  }
  return rows;
}

// The table row of `layer`: its cells, trimmed.
std::vector<std::string> row_of(const std::string& out, const std::string& layer) {
  std::stringstream ss(out);
  for (std::string line; std::getline(ss, line);) {
    if (line.rfind("| " + layer + " |", 0) != 0) continue;
    std::vector<std::string> cells;
    std::stringstream ls(line.substr(1));
    for (std::string c; std::getline(ls, c, '|');) {
      const auto a = c.find_first_not_of(' '), b = c.find_last_not_of(' ');
      cells.push_back(a == std::string::npos ? "" : c.substr(a, b - a + 1));
    }
    return cells;
  }
  return {};
}

class MsdCompare : public CliTest {
 protected:
  Result tool(const std::string& args) { return shell(kTool + " " + args); }
};

TEST_F(MsdCompare, TableRowsComeFromMsqsimsReport) {
  const auto ref = reference_rows("pynq-z2", "resnet18");
  ASSERT_EQ(ref.size(), 21u);
  std::map<std::string, long> before;
  for (const char* variant : {"base", "nospill"}) {
    const bool base = std::string(variant) == "base";
    const Result r =
        tool(std::string("--point pynq-z2/resnet18 --keep-reports ") + variant + " --json " +
             variant + ".json" + (base ? "" : " --set accelerator.scheduler.mapping=fixed"));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("| layer | MSD cycles | msqsim cycles | msqsim/MSD | MSD bound | "
                         "msqsim bound | target |"),
              std::string::npos)
        << r.out;
    const nlohmann::json rep = read_json(std::string(variant) + "/pynq-z2_resnet18.json");
    std::map<std::string, nlohmann::json> layers;
    for (const auto& l : rep["layers"]) layers[l["name"].get<std::string>()] = l;
    for (const auto& [name, msd] : ref) {
      const auto cells = row_of(r.out, name);
      ASSERT_EQ(cells.size(), 11u) << name << "\n" << r.out;
      ASSERT_TRUE(layers.count(name)) << name;
      const long cycles = layers[name]["cycles"].get<long>();
      EXPECT_EQ(cells[1], std::to_string(msd)) << name;
      EXPECT_EQ(cells[2], std::to_string(cycles)) << name;
      char ratio[32];
      std::snprintf(ratio, sizeof ratio, "%.3f", double(cycles) / double(msd));
      EXPECT_EQ(cells[3], ratio) << name;
      EXPECT_TRUE(cells[4] == "compute" || cells[4] == "memory") << name;
      EXPECT_EQ(cells[5], layers[name]["bound"].get<std::string>()) << name;
      EXPECT_TRUE(cells[7] == "pass" || cells[7] == "FAIL") << name;
      if (base)
        before[name] = cycles;
      else if (before[name] != cycles)
        before[name] = -1;  // the override reached msqsim and the table shows its new cycles
    }
    // The total line and the JSON agree with the report.
    const nlohmann::json cmp = read_json(std::string(variant) + ".json");
    ASSERT_EQ(cmp["points"].size(), 1u);
    EXPECT_EQ(cmp["points"][0]["msqsim_cycles"], rep["total"]["cycles"]);
    EXPECT_NE(r.out.find("measured on the board 26.31 ms"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("| pynq-z2 | resnet18 |"), std::string::npos) << r.out;
    // What msqsim ran, read from the report's resolved config (engine list with shapes).
    EXPECT_NE(r.out.find(std::string("pynq-z2: lut_sp2_bitserial 40x40, dsp48_actpack 15x14; ") +
                         (base ? "mapping search" : "mapping fixed")),
              std::string::npos)
        << r.out;
    // The tool's account of MSD's cost model gives back every cycle count of the reference.
    EXPECT_NE(r.out.find("reproduces its simulator's cycles: every layer"), std::string::npos)
        << r.out;
  }
  int changed = 0;
  for (const auto& [name, v] : before) changed += v == -1;
  EXPECT_GT(changed, 5) << "the fixed tiling rule should change most layers' cycles";
}

TEST_F(MsdCompare, MissingInputsAreExitTwoWithAMessage) {
  Result r = tool("--point pynq-z2/resnet18 --reference nothere.csv");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("msd_compare: nothere.csv: MSD's per-layer reference is missing"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("Traceback"), std::string::npos) << r.err;

  r = tool("--point pynq-z2/resnet18 --configs .");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("configs/msd/pynq_z2.yaml: the pynq-z2 config is missing"),
            std::string::npos)
      << r.err;

  r = shell("/usr/bin/python3 '" MSQ_SOURCE_DIR
            "/tools/msd_compare.py' --msqsim ./nope --point pynq-z2/resnet18");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("./nope: --msqsim: not an executable file"), std::string::npos) << r.err;

  write("ref.csv", "board,network,layer,cycles,bound\npynq-z2,resnet18,Conv1,many,compute\n");
  r = tool("--point pynq-z2/resnet18 --reference ref.csv");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("ref.csv: data row 2: cycles: expected an integer (got 'many')"),
            std::string::npos)
      << r.err;

  // msqsim's own refusal comes through with its message.
  r = tool("--point pynq-z2/resnet18 --set accelerator.buffers.input_bram36=0");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("accelerator.buffers.input_bram36"), std::string::npos) << r.err;

  // Output paths that cannot be written are refused before the runs, not by a traceback after.
  write("afile", "");
  r = tool("--point pynq-z2/resnet18 --keep-reports afile");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("msd_compare: afile: --keep-reports: cannot create the directory"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("Traceback"), std::string::npos) << r.err;
  r = tool("--point pynq-z2/resnet18 --json nodir/x.json");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("msd_compare: nodir/x.json: --json: expected a file path in a writable"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("Traceback"), std::string::npos) << r.err;

  r = tool("--point pynq-z2/alexnet");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown point"), std::string::npos) << r.err;
}

// --as-run: MSD's per-layer tiles and LUT share become a mapping file (mapping: given) and msqsim
// runs the schedule the board ran, on the board as built.
TEST_F(MsdCompare, AsRunRunsTheSchedulesTheBoardsRan) {
  const Result own = tool("--point zcu102/resnet18 --json own.json");
  ASSERT_EQ(own.code, 0) << own.err;
  const Result r = tool("--as-run --point zcu102/resnet18 --keep-reports k --json as_run.json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("as run: msqsim on the schedule each board ran"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("zcu102: lut_sp2_bitserial 80x80, dsp48_actpack 48x48; mapping given"),
            std::string::npos)
      << r.out;
  // The mapping file: a row per MSD layer, MSD's k and c tiles, its 14x14 pixel tile as a box of
  // 14 rows by 14 columns (the boxes at the edges of the 54 x 54 output clipped to it: 4 x 4 boxes,
  // the last row and column of them 12 wide), 16 of 64 channels on the LUT array.
  const std::string csv = read(path("k/zcu102_resnet18_as_run.csv"));
  EXPECT_NE(csv.find("\nConv2_1a,64,32,14,14,0.25\n"), std::string::npos) << csv;
  const auto ref = reference_rows("zcu102", "resnet18");
  const nlohmann::json rep = read_json("k/zcu102_resnet18.json");
  ASSERT_EQ(rep["layers"].size(), ref.size());
  for (const auto& l : rep["layers"]) {
    const std::string name = l["name"].get<std::string>();
    EXPECT_TRUE(l["mapping"]["given"].get<bool>()) << name;
    EXPECT_NE(csv.find("\n" + name + ","), std::string::npos) << name;
    if (name == "Conv2_1a") {
      EXPECT_EQ(l["mapping"]["m_tiles"], 1);
      EXPECT_EQ(l["mapping"]["k_channels"], 32);
      EXPECT_EQ(l["mapping"]["tile_rows"], 14);
      EXPECT_EQ(l["mapping"]["tile_cols"], 14);
      EXPECT_EQ(l["mapping"]["n_tiles"], 16);
      EXPECT_EQ(l["rows"]["lut_core"], 16);
    }
  }
  const auto cells = row_of(r.out, "Conv3_1b");
  ASSERT_EQ(cells.size(), 14u) << r.out;
  EXPECT_EQ(cells[8], "0.62/0.62");  // MSD's share, and msqsim's rows on the LUT array
  // The board's own instructions for FC, worked out by hand from MSD's host code
  // (instr_gen_model.py, hw_arch [80, 48], 16 bytes a beat) and rtl/glb_ctrl.sv: MSD's tile is 50
  // outputs x 32 inputs, 320 tiles; ceil(50 x 0.2) = 10 channels on the LUT array, 40 on the DSP
  // array. Load: activations ceil(32 / 16) = 2 beats on one master, weights ceil(0.5 x 32 x 10 /
  // 16) + ceil(32 x 40 / 16) = 10 + 80 = 90 beats on the other: 90. Execute: LUT 32 x 2 digits x
  // 1 x 1 = 64, DSP 32 x 1 x 1 = 32: 64. Write-back: ceil(10 / 16) + ceil(40 / 16) = 4. Lock
  // step: 90 + 64 + 4 + 319 x 90 + 2 x 320 + 3 = 29511.
  const auto fc = row_of(r.out, "FC");
  ASSERT_EQ(fc.size(), 14u) << r.out;
  EXPECT_EQ(fc[12], "29511");
  char q[32];
  std::snprintf(q, sizeof q, "%.3f", std::stod(fc[2]) / 29511.0);
  EXPECT_EQ(fc[13], q);
  EXPECT_NE(r.out.find("the board's instructions (1520 tiles; MSD's host code, hw_arch [80, 48]"),
            std::string::npos)
      << r.out;
  // The own-search table has no such column: there the schedules differ.
  EXPECT_EQ(own.out.find("board's instructions"), std::string::npos) << own.out;
  // Another schedule, other cycles: the totals of the two modes differ.
  const nlohmann::json a = read_json("own.json"), b = read_json("as_run.json");
  EXPECT_NE(a["points"][0]["msqsim_cycles"], b["points"][0]["msqsim_cycles"]);
  EXPECT_EQ(b["points"][0]["msqsim_cycles"], rep["total"]["cycles"]);
}

// --as-run gives each layer MSD's split of its rows between the arrays: MSD puts int(k x ratio) of
// every k-channel tile on the LUT array, so those rows are SP2 (LUT array) and the rest 8-bit (DSP
// array), by the per-layer fractions, and the mapping's lut_share is the same share. PYNQ-Z2
// VGG-16's Conv11: 3 tiles of 172, int(172 x 0.651) = 112 LUT rows each, 336 of 512 (the config's
// global 62.5% would give 320).
TEST_F(MsdCompare, AsRunSplitsEachLayersRowsAsMsdDid) {
  const Result r = tool("--as-run --point pynq-z2/vgg16 --keep-reports k");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string csv = read(path("k/pynq-z2_vgg16_as_run.csv"));
  EXPECT_NE(csv.find("\nConv11,172,32,12,,0.65625\n"), std::string::npos) << csv;
  // Square tiles whose 32-bit partial sums do not fit msqsim's output-buffer slot (55 BRAM36,
  // double-buffered: 112640 bytes) are cut to the fewest pixel tiles that fit. Conv5 (54 x 54
  // output, o = 18, 256 channels: 110 pixels fit): 6 rows of 18 columns, 9 x 3 = 27 tiles, as
  // many as 2 whole rows give, so the box. Conv8 (26 x 26, o = 14, 172 channels: 163 pixels): 11
  // rows of 14 columns would be 3 x 2 = 6 tiles, 6 whole rows are 5: whole rows.
  EXPECT_NE(csv.find("\nConv5,256,16,6,18,0.58984375\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\nConv8,172,32,6,,0.65625\n"), std::string::npos) << csv;
  const nlohmann::json rep = read_json("k/pynq-z2_vgg16.json");
  const auto& w = rep["config"]["workload"];
  EXPECT_DOUBLE_EQ(w["sp2_fraction_per_layer"]["Conv11"].get<double>(), 336.0 / 512);
  EXPECT_DOUBLE_EQ(w["fixed8_fraction_per_layer"]["Conv11"].get<double>(), 176.0 / 512);
  // Every layer's rows per engine from the reference's own tiles and ratio.
  std::ifstream in(MSQ_SOURCE_DIR "/tools/msd_reference.csv");
  std::map<std::string, std::pair<long, double>> tiles;  // layer: k_tile, ratio
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("pynq-z2,vgg16,", 0) != 0) continue;
    std::vector<std::string> c;
    std::stringstream ss(line);
    for (std::string v; std::getline(ss, v, ',');) c.push_back(v);
    ASSERT_EQ(c.size(), 15u) << line;
    tiles[c[2]] = {std::stol(c[4]), std::stod(c[12])};
  }
  ASSERT_EQ(tiles.size(), 16u);
  ASSERT_EQ(rep["layers"].size(), tiles.size());
  for (const auto& l : rep["layers"]) {
    const std::string name = l["name"].get<std::string>();
    const long m = l["m"].get<long>();
    const auto [k, share] = tiles.at(name);
    const long tile = std::min(k, m);
    const long lut = std::min(m, long(double(tile) * share) * ((m + tile - 1) / tile));
    EXPECT_EQ(l["rows"]["lut_core"].get<long>(), lut) << name;
    EXPECT_EQ(l["rows"]["dsp_core"].get<long>(), m - lut) << name;
    EXPECT_EQ(l["sp2_rows"].get<long>(), lut) << name;
  }
  // With MSD's split Conv11 takes MSD's DSP passes (60 rows of a tile: 4 of 15 slice columns,
  // where 64 took 5): within 10% of MSD's simulator.
  const auto cells = row_of(r.out, "Conv11");
  ASSERT_EQ(cells.size(), 13u) << r.out;  // built as planned: no "as built" column
  EXPECT_EQ(cells[7], "pass") << r.out;
  EXPECT_EQ(cells[8], "0.65/0.66");
}

// The per-layer fractions --as-run passes name MSD's layers; a name the network lacks is refused
// with the key, not ignored (the layer would keep the config's global rows).
TEST_F(MsdCompare, PerLayerFractionsNameALayerOfTheNetwork) {
  const Result r = shell("'" MSQSIM_EXE "' run '" MSQ_SOURCE_DIR
                         "/configs/msd/pynq_z2.yaml' --no-verify --allow-overfull --set "
                         "workload.network=msd_vgg16 --set "
                         "'workload.fixed8_fraction_per_layer={Conv99: 0.3}'");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(
      r.err.find("workload.fixed8_fraction_per_layer.Conv99: expected a layer of msd_vgg16 (got "
                 "Conv99); did you mean 'Conv9'?"),
      std::string::npos)
      << r.err;
}

}  // namespace
