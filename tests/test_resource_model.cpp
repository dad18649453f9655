// The resource model: a hand-computed design, the shipped example config, overfull designs,
// scaling, the cost file's error messages, and a comparison with MSD's published PE costs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "models/error.h"
#include "models/resource_model.h"
#include "sim/config_loader.h"

namespace fs = std::filesystem;
using msq::InputError;
using msq::ResourceCosts;
using msq::ResourceEstimate;
using msq::RunConfig;

namespace {

// The coefficients of configs/resources/costs.yaml as of this test, written out so that the
// hand computation below does not move when the shipped file is retuned.
ResourceCosts hand_costs() {
  ResourceCosts k;
  k.fabric = {1.0, 2, 1.0};
  k.lut_core = {0.0, 0.0, 0.5, 1.0, 2.0, 1.0};
  k.dsp_core = {1, 3, 1.0, 4.0, 0.5, 1.0};
  k.buffers = {1};
  k.dma = {1500, 2500, 2};
  k.vector = {4, 48, 6, 8.0, 8.0, 4.0, 48.0};
  k.control = {7000, 10000, 2, 4};
  return k;
}

RunConfig xc7z020_config() {
  RunConfig c;
  c.device.name = "xc7z020";
  c.device.lut = 53200;
  c.device.ff = 106400;
  c.device.bram36 = 140;
  c.device.dsp = 220;
  c.device.dsp_kind = msq::DspKind::DSP48E1;
  return c;
}

const msq::ResourceLine& line(const ResourceEstimate& e, const std::string& block) {
  for (const auto& l : e.lines)
    if (l.block == block) return l;
  throw std::runtime_error("no line " + block);
}

std::string read_text(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A copy of the shipped cost file with `from` replaced by `to`, and the 1-based line where `to`
// starts (0 when `to` is empty).
struct Edited {
  std::string path;
  int line = 0;
};
Edited edited_costs(const std::string& from, const std::string& to) {
  std::string text = read_text(msq::default_resource_costs_path());
  const size_t at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("not in costs.yaml: " + from);
  text.replace(at, from.size(), to);
  Edited e;
  e.path =
      (fs::temp_directory_path() / ("msq_costs_" + std::to_string(getpid()) + ".yaml")).string();
  std::ofstream(e.path) << text;
  e.line = 1 + int(std::count(text.begin(), text.begin() + long(at), '\n'));
  return e;
}

std::string load_error(const std::string& path) {
  try {
    msq::load_resource_costs(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

int line_in_shipped(const std::string& needle) {
  const std::string text = read_text(msq::default_resource_costs_path());
  const size_t at = text.find(needle);
  return at == std::string::npos ? 0
                                 : 1 + int(std::count(text.begin(), text.begin() + long(at), '\n'));
}

}  // namespace

// 4x4 LUT core, 2x2 DSP core (DSP48E1, packing), act 8, weight 4, acc 32, both depths 4,
// buffers 2 + 4 + 2 BRAM36, two AXI ports. SP2 4-bit: m1 = 2, m2 = 1, F = 3.
//
// SP2 PE, LUTs: shifted term width sw = a + F - 1 = 10
//   shifter 1: 2^m1 = 4 choices = 2 mux levels = 1 LUT/bit -> 10
//   shifter 2: 2^m2 = 2 choices = 1 level      = 1 LUT/bit -> 10
//   term adder 10, accumulator add/sub 32, sign 0, readout 0.5 * 32 = 16, control 1  -> 79
// SP2 PE, FFs: stages (depth - 1 = 3): operands 8 + 4 = 12, terms 2 * 10 + 1 = 21,
//   product a + F + 1 = 12 -> 45; accumulator 32; readout 32; control 2 * 4 = 8       -> 117
// LUT core (16 PEs): 1,264 LUT, 1,872 FF.
// DSP PE: D = max_lane_offset(DSP48E1, 4) = 21 (7 * (2^21 + 1) <= 2^24 - 1).
//   LUTs: unpack 21 + 4 = 25; two lanes x (adder 32 + readout 16) = 96              -> 121
//   FFs: two lanes x (acc 32 + readout 32) = 128; 4 - 3 = 1 fabric stage x (8 + 21 + 4) = 33
//                                                                                    -> 161
// DSP core (4 PEs): 484 LUT, 644 FF, 4 DSP.
// Buffers: 8 BRAM36 + 1 BRAM18. DMA: 2 x (1,500 LUT, 2,500 FF, 2 BRAM18).
// Control: 7,000 LUT, 10,000 FF, 2 x 4 = 8 DSP.
// Vector engine, 16 lanes of: shifter 48 x ceil(6 / 2) = 144, 8 x 8 act-bit LUTs, 8 saturation
//   -> 216 LUT; 4 x 8 + 48 = 80 FF; 4 DSP. 16 lanes: 3,456 LUT, 1,280 FF, 64 DSP.
// Totals: LUT 1,264 + 484 + 3,456 + 3,000 + 7,000 = 15,204;
//   FF 1,872 + 644 + 1,280 + 5,000 + 10,000 = 18,796; DSP 4 + 64 + 8 = 76;
//   BRAM36 8 + ceil((1 + 4) / 2) = 11.
TEST(ResourceModel, HandComputedSmallDesign) {
  RunConfig c = xc7z020_config();
  c.accelerator.lut_core = {4, 4, 4};
  c.accelerator.dsp_core.rows = c.accelerator.dsp_core.cols = 2;
  c.accelerator.dsp_core.pipeline_depth = 4;
  c.accelerator.dsp_core.packing = true;
  c.accelerator.accumulator.bits = 32;
  c.accelerator.buffers.weight_bram36 = 2;
  c.accelerator.buffers.input_bram36 = 4;
  c.accelerator.buffers.output_bram36 = 2;
  c.memory.axi_ports = 2;
  c.workload.act_bits = 8;
  c.workload.weight_bits = 4;

  const ResourceCosts k = hand_costs();
  EXPECT_DOUBLE_EQ(msq::sp2_pe_cost(c, k).lut, 79);
  EXPECT_DOUBLE_EQ(msq::sp2_pe_cost(c, k).ff, 117);
  EXPECT_DOUBLE_EQ(msq::dsp_pe_cost(c, k).lut, 121);
  EXPECT_DOUBLE_EQ(msq::dsp_pe_cost(c, k).ff, 161);

  const ResourceEstimate e = msq::estimate_resources(c, k);
  ASSERT_EQ(e.lines.size(), 6u);
  const auto check = [&](const std::string& b, int64_t lut, int64_t ff, int64_t dsp, int64_t b36,
                         int64_t b18) {
    const auto& l = line(e, b);
    EXPECT_EQ(l.lut, lut) << b;
    EXPECT_EQ(l.ff, ff) << b;
    EXPECT_EQ(l.dsp, dsp) << b;
    EXPECT_EQ(l.bram36, b36) << b;
    EXPECT_EQ(l.bram18, b18) << b;
  };
  check("lut_core", 1264, 1872, 0, 0, 0);
  check("dsp_core", 484, 644, 4, 0, 0);
  check("vector", 3456, 1280, 64, 0, 0);
  check("buffers", 0, 0, 0, 8, 1);
  check("dma", 3000, 5000, 0, 0, 4);
  check("control", 7000, 10000, 8, 0, 0);
  EXPECT_EQ(e.lut, 15204);
  EXPECT_EQ(e.ff, 18796);
  EXPECT_EQ(e.dsp, 76);
  EXPECT_EQ(e.bram36, 11);
  EXPECT_EQ(e.lut_avail, 53200);
  EXPECT_TRUE(e.fits());
  EXPECT_EQ(e.overfull_message(), "");
  EXPECT_EQ(e.binding(), "dsp");  // 28.6% LUT, 17.7% FF, 34.5% DSP, 7.9% BRAM36
}

TEST(ResourceModel, UnpackedDspCoreHasOneLaneAndNoUnpacking) {
  RunConfig c = xc7z020_config();
  c.accelerator.dsp_core.packing = false;
  c.accelerator.dsp_core.pipeline_depth = 4;
  // One lane: adder 32 + readout 16 LUT; acc 32 + readout 32 FF + 1 stage x (8 + 4) operand FF.
  const auto p = msq::dsp_pe_cost(c, hand_costs());
  EXPECT_DOUBLE_EQ(p.lut, 48);
  EXPECT_DOUBLE_EQ(p.ff, 76);
  EXPECT_EQ(p.dsp, 1);
  // 8-bit weights are never packed, whatever the switch says.
  c.accelerator.dsp_core.packing = true;
  c.workload.weight_bits = 8;
  EXPECT_FALSE(msq::dsp_core_packed(c));
}

TEST(ResourceModel, JsonHasTheReportFields) {
  RunConfig c = xc7z020_config();
  c.accelerator.lut_core = {4, 4, 4};
  c.accelerator.dsp_core.rows = c.accelerator.dsp_core.cols = 2;
  c.accelerator.buffers = {2, 4, 2, true};
  const auto j = msq::resources_to_json(msq::estimate_resources(c, hand_costs()));
  EXPECT_EQ(j["dsp"]["used"], 76);
  EXPECT_EQ(j["dsp"]["available"], 220);
  EXPECT_DOUBLE_EQ(j["dsp"]["percent"].get<double>(), 34.5);
  EXPECT_EQ(j["bram36"]["used"], 11);
  EXPECT_EQ(j["lut"]["available"], 53200);
  EXPECT_TRUE(j["ff"].contains("percent"));
  ASSERT_EQ(j["breakdown"].size(), 6u);
  EXPECT_EQ(j["breakdown"][2]["block"], "vector");
  EXPECT_EQ(j["breakdown"][0]["block"], "lut_core");
  EXPECT_EQ(j["breakdown"][1]["dsp"], 4);
  EXPECT_EQ(j["fits"], true);
}

TEST(ResourceModel, DefaultExampleFitsTheZc706) {
  const RunConfig c =
      msq::load_run_config(std::string(MSQ_SOURCE_DIR) + "/configs/examples/default.yaml", {});
  const ResourceEstimate e =
      msq::estimate_resources(c, msq::load_resource_costs(msq::default_resource_costs_path()));
  EXPECT_EQ(e.device, "xc7z045");
  EXPECT_TRUE(e.fits()) << e.overfull_message();
  // 32x32 SP2 PEs and 16x16 packed DSP48E1, 16 vector lanes x 4, 8 for requantization; 128
  // buffer BRAM36 + 5 BRAM18.
  EXPECT_EQ(e.dsp, 328);
  EXPECT_EQ(e.bram36, 131);
  // Plausible shares: the LUT core dominates the fabric, well inside the device.
  EXPECT_GT(e.lut, e.lut_avail / 4);
  EXPECT_LT(e.lut, e.lut_avail * 3 / 4);
  EXPECT_GT(e.ff, e.ff_avail / 5);
  EXPECT_LT(e.ff, e.ff_avail * 3 / 4);
  EXPECT_GT(line(e, "lut_core").lut, line(e, "dsp_core").lut);
  EXPECT_EQ(e.binding(), "lut");
  std::printf(
      "default example on %s: LUT %lld/%lld, FF %lld/%lld, DSP %lld/%lld, BRAM36 %lld/%lld\n",
      e.device.c_str(), (long long)e.lut, (long long)e.lut_avail, (long long)e.ff,
      (long long)e.ff_avail, (long long)e.dsp, (long long)e.dsp_avail, (long long)e.bram36,
      (long long)e.bram36_avail);
}

TEST(ResourceModel, LargeDspCoreOverfillsTheXc7z020) {
  RunConfig c = xc7z020_config();
  c.accelerator.lut_core = {4, 4, 4};
  c.accelerator.dsp_core.rows = c.accelerator.dsp_core.cols = 64;
  const ResourceEstimate e = msq::estimate_resources(c, hand_costs());
  EXPECT_FALSE(e.fits());
  EXPECT_EQ(e.dsp, 4096 + 64 + 8);
  EXPECT_EQ(e.binding(), "dsp");
  const std::string m = e.overfull_message();
  EXPECT_NE(m.find("the design needs 4,168 DSP slices, the XC7Z020 has 220 (1,895%)"),
            std::string::npos)
      << m;
}

TEST(ResourceModel, OverfullPercentRoundsUp) {
  RunConfig c = xc7z020_config();
  const ResourceCosts k = hand_costs();
  ResourceEstimate e = msq::estimate_resources(c, k);
  e.dsp = e.dsp_avail + 1;  // 221 of 220: 100.45%
  EXPECT_NE(e.overfull_message().find("(101%)"), std::string::npos) << e.overfull_message();
}

TEST(ResourceModel, DoublingLutCoreRowsDoublesItsLuts) {
  RunConfig c = xc7z020_config();
  const ResourceCosts k = hand_costs();
  c.accelerator.lut_core.rows = 32;
  const ResourceEstimate a = msq::estimate_resources(c, k);
  c.accelerator.lut_core.rows = 64;
  const ResourceEstimate b = msq::estimate_resources(c, k);
  const double r = double(line(b, "lut_core").lut) / double(line(a, "lut_core").lut);
  EXPECT_NEAR(r, 2.0, 0.01);
  EXPECT_EQ(line(b, "dsp_core").lut, line(a, "dsp_core").lut);
  EXPECT_EQ(b.lut - a.lut, line(a, "lut_core").lut);
}

// The vector engine is its own line, priced per lane; nothing else moves with its lanes.
TEST(ResourceModel, VectorEngineLinePerLane) {
  RunConfig c = xc7z020_config();
  const ResourceCosts k = hand_costs();
  c.accelerator.vector.lanes = 4;
  const ResourceEstimate a = msq::estimate_resources(c, k);
  c.accelerator.vector.lanes = 8;
  const ResourceEstimate b = msq::estimate_resources(c, k);
  EXPECT_EQ(line(a, "vector").lut, 4 * 216);
  EXPECT_EQ(line(a, "vector").ff, 4 * 80);
  EXPECT_EQ(line(a, "vector").dsp, 4 * 4);
  EXPECT_EQ(b.lut - a.lut, 4 * 216);
  EXPECT_EQ(b.dsp - a.dsp, 4 * 4);
  // 4-bit activations: 4 x 8 fewer LUTs per lane.
  c.workload.act_bits = 4;
  EXPECT_DOUBLE_EQ(msq::vector_lane_cost(4, k).lut, 216 - 32);
}

TEST(ResourceModel, WiderDatapathsCostMore) {
  RunConfig c = xc7z020_config();
  const ResourceCosts k = hand_costs();
  const double base = msq::sp2_pe_cost(c, k).lut;
  c.workload.weight_bits = 8;  // m1 = 4, F = 15: wider terms, 16-way shifters
  EXPECT_GT(msq::sp2_pe_cost(c, k).lut, base);
  c.workload.weight_bits = 4;
  c.accelerator.accumulator.bits = 24;
  EXPECT_LT(msq::sp2_pe_cost(c, k).lut, base);
}

TEST(ResourceModel, ShippedCostFileLoads) {
  const ResourceCosts k = msq::load_resource_costs(msq::default_resource_costs_path());
  EXPECT_GT(k.fabric.adder_luts_per_bit, 0);
  EXPECT_EQ(k.dsp_core.dsp_per_pe, 1);
  EXPECT_GT(k.control.luts, 0);
}

TEST(ResourceModel, CostFileUnknownKeyNamesFileLineAndKey) {
  const Edited f = edited_costs("  adder_luts_per_bit: 1.0", "  adder_lut_per_bit: 1.0");
  const std::string m = load_error(f.path);
  fs::remove(f.path);
  EXPECT_NE(
      m.find(f.path + ":" + std::to_string(f.line) + ": fabric.adder_lut_per_bit: unknown key"),
      std::string::npos)
      << m;
  EXPECT_NE(m.find("adder_luts_per_bit"), std::string::npos) << m;  // lists the expected keys
}

TEST(ResourceModel, CostFileUnknownSectionNamesFileLineAndKey) {
  const Edited f = edited_costs("control:\n", "contrl:\n");
  const std::string m = load_error(f.path);
  fs::remove(f.path);
  EXPECT_NE(m.find(f.path + ":" + std::to_string(f.line) + ": contrl: unknown section"),
            std::string::npos)
      << m;
}

TEST(ResourceModel, CostFileMissingKeyNamesFileSectionLineAndKey) {
  const Edited f = edited_costs("  luts_per_port: 1500\n", "");
  const std::string m = load_error(f.path);
  fs::remove(f.path);
  const int dma_line = line_in_shipped("\ndma:\n") + 1;
  EXPECT_NE(m.find(f.path + ":" + std::to_string(dma_line) + ": dma.luts_per_port: missing key"),
            std::string::npos)
      << m;
}

TEST(ResourceModel, CostFileWrongTypeNamesFileLineAndKey) {
  {
    const Edited f = edited_costs("  luts: 7000", "  luts: many");
    const std::string m = load_error(f.path);
    fs::remove(f.path);
    EXPECT_NE(m.find(f.path + ":" + std::to_string(f.line) +
                     ": control.luts: expected a number in 0..10000000 (got many)"),
              std::string::npos)
        << m;
  }
  {
    const Edited f = edited_costs("  mux_levels_per_lut: 3", "  mux_levels_per_lut: 1.5");
    const std::string m = load_error(f.path);
    fs::remove(f.path);
    EXPECT_NE(m.find(f.path + ":" + std::to_string(f.line) +
                     ": fabric.mux_levels_per_lut: expected an integer in 1..8 (got 1.5)"),
              std::string::npos)
        << m;
  }
  {
    const Edited f = edited_costs("  bram18_per_port: 2", "  bram18_per_port: [2]");
    const std::string m = load_error(f.path);
    fs::remove(f.path);
    EXPECT_NE(m.find(":" + std::to_string(f.line) + ": dma.bram18_per_port: expected an integer"),
              std::string::npos)
        << m;
  }
}

// MSD (FCCM 2023) puts a 40x40 array of bit-serial LUT PEs (17 LUT + 23 FF each) on an XC7Z020.
// The same array of this model's bit-parallel SP2 PEs is reported, not asserted: the two PEs do
// different work per cycle (docs/resources.md discusses the gap). The core's line is its PEs and
// its glue.
TEST(ResourceModel, MsdSizedLutArrayOnXc7z020) {
  RunConfig c = xc7z020_config();
  c.accelerator.lut_core = {40, 40, 4};
  c.accelerator.dsp_core.rows = 14;
  c.accelerator.dsp_core.cols = 15;
  const ResourceCosts k = msq::load_resource_costs(msq::default_resource_costs_path());
  const ResourceEstimate e = msq::estimate_resources(c, k);
  const msq::PeCost pe = msq::sp2_pe_cost(c, k);
  const msq::PeCost dpe = msq::dsp_pe_cost(c, k);
  // The line is the PE cost times the array plus the glue, rounded up once.
  const msq::PeCost glue = msq::engine_glue_cost(40, 40, 4, 8, 32, k);
  EXPECT_GT(glue.lut, 0);
  EXPECT_EQ(line(e, "lut_core").lut, int64_t(std::ceil(pe.lut * 1600 + glue.lut - 1e-9)));
  EXPECT_EQ(line(e, "dsp_core").dsp, 210);
  std::printf(
      "MSD-sized design on XC7Z020 (a=8, b=4, acc=32):\n"
      "  SP2 PE %.1f LUT + %.1f FF vs MSD bit-serial PE 17 LUT + 23 FF\n"
      "  40x40 LUT core: %lld LUT + %lld FF (MSD: 27,200 LUT + 36,800 FF)\n"
      "  DSP PE %.1f LUT + %.1f FF vs MSD 9 LUT + 20 FF; 14x15 DSP core %lld LUT + %lld FF\n"
      "  whole design: %s; fits: %s\n",
      pe.lut, pe.ff, (long long)line(e, "lut_core").lut, (long long)line(e, "lut_core").ff, dpe.lut,
      dpe.ff, (long long)line(e, "dsp_core").lut, (long long)line(e, "dsp_core").ff,
      e.overfull_message().c_str(), e.fits() ? "yes" : "no");
  RecordProperty("sp2_pe_lut", std::to_string(pe.lut));
  RecordProperty("sp2_pe_ff", std::to_string(pe.ff));
}

TEST(ResourceModel, CostPathFollowsTheConfigDir) {
  // Any existing directory: the path follows it whether or not it holds a cost file.
  const std::string dir = std::filesystem::temp_directory_path().string();
  ASSERT_EQ(setenv("MSQSIM_CONFIG_DIR", dir.c_str(), 1), 0);
  const std::string p = msq::default_resource_costs_path();
  unsetenv("MSQSIM_CONFIG_DIR");
  EXPECT_EQ(p, dir + "/resources/costs.yaml");
  EXPECT_EQ(msq::default_resource_costs_path(),
            std::string(MSQ_SOURCE_DIR) + "/configs/resources/costs.yaml");
}

// The synthesized sections are checked like every other: a negative glue cost names the file, the
// line and the key.
TEST(ResourceModel, GlueCostOutOfRangeNamesFileLineAndKey) {
  const std::string text = read_text(msq::default_resource_costs_path());
  const size_t at = text.find("  luts_per_row: ", text.find("\nglue:\n"));
  ASSERT_NE(at, std::string::npos);
  const std::string old = text.substr(at, text.find('\n', at) - at);
  const Edited f = edited_costs(old, "  luts_per_row: -1");
  const std::string m = load_error(f.path);
  fs::remove(f.path);
  EXPECT_NE(m.find(f.path + ":" + std::to_string(f.line) +
                   ": glue.luts_per_row: expected a number in 0..10000 (got -1)"),
            std::string::npos)
      << m;
}

// MSQSIM_RESOURCE_COSTS chooses the cost file: "handwritten" is the hand-derived one, which prices
// no glue and so gives a smaller LUT core than the default, Yosys-derived file.
TEST(ResourceModel, EnvironmentChoosesTheHandWrittenCosts) {
  const std::string generated = msq::default_resource_costs_path();
  ASSERT_EQ(setenv("MSQSIM_RESOURCE_COSTS", "handwritten", 1), 0);
  const std::string hand = msq::default_resource_costs_path();
  ASSERT_EQ(setenv("MSQSIM_RESOURCE_COSTS", "/some/costs.yaml", 1), 0);
  const std::string other = msq::default_resource_costs_path();
  ASSERT_EQ(unsetenv("MSQSIM_RESOURCE_COSTS"), 0);
  EXPECT_EQ(fs::path(generated).filename(), "costs.yaml");
  EXPECT_EQ(fs::path(hand).filename(), "costs_handwritten.yaml");
  EXPECT_EQ(fs::path(hand).parent_path(), fs::path(generated).parent_path());
  EXPECT_EQ(other, "/some/costs.yaml");
  const ResourceCosts kh = msq::load_resource_costs(hand), kg = msq::load_resource_costs(generated);
  EXPECT_EQ(msq::engine_glue_cost(32, 32, 4, 8, 32, kh).lut, 0);
  EXPECT_GT(msq::engine_glue_cost(32, 32, 4, 8, 32, kg).lut, 0);
  const RunConfig c =
      msq::load_run_config(std::string(MSQ_SOURCE_DIR) + "/configs/examples/default.yaml", {});
  EXPECT_NE(msq::estimate_resources(c, kh).lut, msq::estimate_resources(c, kg).lut);
}
