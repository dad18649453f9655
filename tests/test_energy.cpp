// The energy model: hand-computed energies from the coefficients (DRAM as DRAMPower computes it,
// one layer of engine, buffer, DMA and static energy), the report's fields against each other and
// against the resource model's PE size, overrides, and bad cost files.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "models/cost/energy.h"
#include "models/dram.h"
#include "models/resource_model.h"
#include "sim/config_loader.h"
#include "tests/support/cli_fixture.h"

using msq::testing::CliTest;
using msq::testing::Result;
using nlohmann::json;

namespace {

// The DDR3 presets' chip (configs/memory/ddr3-1066-x32.yaml): IDD0 75, IDD2N 35, IDD3N 45,
// IDD4R 140, IDD4W 155, IDD5B 160 mA at 1.5 V; tCK 1.875 ns, tRAS 20, tRP 7, tRFC 139, BL8.
msq::DramPowerSpec ddr3() {
  msq::DramPowerSpec s;
  s.vdd = 1.5, s.idd0 = 75, s.idd2n = 35, s.idd3n = 45, s.idd4r = 140, s.idd4w = 155;
  s.idd5b = 160, s.devices = 2, s.tck_ns = 1.875, s.tRAS = 20, s.tRP = 7, s.tRFC = 139;
  s.burst_cycles = 4;
  return s;
}

TEST(EnergyModel, DramEnergyByHand) {
  msq::DramActions a;
  a.activates = 10, a.precharges = 8, a.reads = 100, a.writes = 50, a.refreshes = 2;
  a.active_s = 1e-3, a.precharged_s = 0.5e-3;
  const msq::DramEnergy e = msq::dram_energy(a, ddr3());
  // Per chip, then x 2 chips:
  //   ACT (75 - 45) mA x 1.5 V x 20 x 1.875 ns = 1687.5 pJ, x 10 = 16875 pJ
  //   PRE (75 - 35) mA x 1.5 V x  7 x 1.875 ns =  787.5 pJ, x  8 =  6300 pJ
  EXPECT_NEAR(e.act_pre, 2 * 23175e-12, 1e-18);
  //   RD (140 - 45) x 1.5 x 4 x 1.875 = 1068.75 pJ, x 100 = 106875 pJ
  EXPECT_NEAR(e.read, 2 * 106875e-12, 1e-18);
  //   WR (155 - 45) x 1.5 x 7.5 = 1237.5 pJ, x 50 = 61875 pJ
  EXPECT_NEAR(e.write, 2 * 61875e-12, 1e-18);
  //   REF (160 - 45) x 1.5 x 139 x 1.875 = 44957.8125 pJ, x 2 = 89915.625 pJ
  EXPECT_NEAR(e.refresh, 2 * 89915.625e-12, 1e-18);
  //   standby 45 mA x 1.5 V x 1 ms + 35 mA x 1.5 V x 0.5 ms = 67.5 + 26.25 uJ
  EXPECT_NEAR(e.background, 2 * 93.75e-6, 1e-15);
  // No currents, no energy.
  EXPECT_EQ(msq::dram_energy(a, msq::DramPowerSpec{}).total(), 0.0);
}

TEST(EnergyModel, OneLayerByHand) {
  msq::EnergyCoefficients k;
  k.lut_pj_per_lut = 0.044, k.dsp_pj_per_product_bit = 0.003;
  k.dsp_pj_per_accumulator_bit = 0.0031, k.bram_pj_per_read = 10, k.bram_pj_per_write = 12;
  k.dma_pj_per_read_byte = 9.4, k.dma_pj_per_write_byte = 17.2;
  msq::RunActions run;
  msq::LayerActions l;
  l.name = "conv";
  l.ops = {{"lut_core", 1000, 80, 0, 0}, {"dsp_core", 500, 0, 17 * 8, 48}};
  l.bram_reads = 200, l.bram_writes = 100;
  l.dram_read_bytes = 4096, l.dram_write_bytes = 1024;
  l.cycles = 10000;
  run.layers = {l};
  run.total_cycles = 10000, run.clock_mhz = 100, run.macs = 2000, run.batch = 2;
  run.static_power_w = 0.2;
  const msq::EnergyResult e = msq::compute_energy(run, k, msq::DramPowerSpec{});
  const auto block = [&](const std::string& b) {
    for (const auto& [name, j] : e.blocks.by_block)
      if (name == b) return j;
    ADD_FAILURE() << "no block " << b;
    return -1.0;
  };
  EXPECT_NEAR(block("lut_core"), 1000 * 80 * 0.044e-12, 1e-20);                      // 3520 pJ
  EXPECT_NEAR(block("dsp_core"), 500 * (136 * 0.003 + 48 * 0.0031) * 1e-12, 1e-20);  // 278.4
  EXPECT_NEAR(block("buffers"), (200 * 10 + 100 * 12) * 1e-12, 1e-20);               // 3200 pJ
  EXPECT_NEAR(block("dma"), (4096 * 9.4 + 1024 * 17.2) * 1e-12, 1e-20);              // 56115.2 pJ
  EXPECT_NEAR(block("static"), 0.2 * 100e-6, 1e-15);  // 0.2 W for 100 us
  EXPECT_EQ(block("dram"), 0.0);
  const double total = (3520 + 278.4 + 3200 + 56115.2) * 1e-12 + 20e-6;
  EXPECT_NEAR(e.total_j, total, 1e-15);
  EXPECT_NEAR(e.static_j, 20e-6, 1e-15);
  EXPECT_NEAR(e.dynamic_j, total - 20e-6, 1e-15);
  EXPECT_NEAR(e.j_per_frame, total / 2, 1e-15);
  EXPECT_NEAR(e.avg_power_w, total / 100e-6, 1e-9);
  EXPECT_NEAR(e.gops_per_w, 4000 / total / 1e9, 1e-9);
  ASSERT_EQ(e.layers.size(), 1u);
  EXPECT_NEAR(e.layers[0].total_j, total, 1e-15);
}

// The DRAM model's command counts for the energy model, on a pattern with known commands: one
// write and one read per row of one bank, so every access after the first precharges the open
// row and activates the next; then a long idle gap, in which refreshes close every bank.
TEST(EnergyModel, DramCountsCommandsAndIdleTime) {
  msq::DramConfig cfg;  // the DDR3-1066 x32 defaults: 8 banks of 4 KB rows, bursts of 32 bytes
  msq::Dram d("ddr3", cfg);
  const uint64_t same_bank = uint64_t(cfg.row_bytes) * cfg.banks;  // next row of bank 0
  sc_core::sc_time t = sc_core::SC_ZERO_TIME;
  for (int r = 0; r < 10; ++r) {
    t = d.access(t, r * same_bank, 32, 32, 1, true);
    t = d.access(t, r * same_bank + 32, 32, 32, 1, false);
  }
  const msq::DramStats& s = d.stats();
  EXPECT_EQ(s.activates, 10);
  EXPECT_EQ(s.activates, s.row_misses + s.row_conflicts);
  EXPECT_EQ(s.write_bursts, 10);
  EXPECT_EQ(s.read_bursts, 10);
  EXPECT_EQ(s.read_bursts + s.write_bursts, s.bursts);
  // Precharges so far: one per row change (no refresh is due yet in these few microseconds).
  ASSERT_EQ(s.refreshes, 0);
  EXPECT_EQ(s.precharges, 9);
  // The first activate comes at cycle 0, and no refresh has closed the banks since.
  EXPECT_EQ(s.precharged_cycles, 0);
  ASSERT_EQ(s.closed_since.size(), 1u);
  EXPECT_EQ(s.closed_since[0], -1);
  // An access after 100 refresh intervals: the refreshes in the gap closed the open bank once.
  const int64_t later = 100 * int64_t(cfg.tREFI);
  d.access(sc_core::sc_time(double(later) * 1e6 / cfg.clock_mhz, sc_core::SC_PS), 0, 32, 32, 1,
           false);
  EXPECT_GE(d.stats().refreshes, 99);
  EXPECT_EQ(d.stats().precharges, 10);
  // Closed from the first refresh in the gap until the activate: about 99 refresh intervals.
  EXPECT_GT(d.stats().precharged_cycles, 98 * int64_t(cfg.tREFI));
  EXPECT_LT(d.stats().precharged_cycles, 101 * int64_t(cfg.tREFI));
}

class Energy : public CliTest {
 protected:
  json run_json(const std::string& args) {
    const Result r = run(args + " --json r.json");
    EXPECT_EQ(r.code, 0) << r.err;
    return read_json("r.json");
  }
  // One fully connected layer, every row SP2 (LUT core 8x8), on an XC7Z020.
  std::string fc_config() {
    write("fc.yaml",
          "name: fc1\nsource: test\nlayers:\n"
          "  - {name: fc, type: fc, input: 64, out_channels: 20}\n");
    return write("c.yaml",
                 "device: xc7z020\nclock_mhz: 100\naccelerator:\n"
                 "  lut_core: {rows: 8, cols: 8}\n  dsp_core: {rows: 4, cols: 8}\n"
                 "workload: {network: fc.yaml, sp2_fraction: 1.0}\n");
  }
  static double block(const json& e, const std::string& b) {
    return e["by_block"][b].get<double>();
  }
};

TEST_F(Energy, LutCoreEnergyIsMacsTimesPeLutsTimesTheCoefficient) {
  const json j = run_json("run '" + fc_config() + "' --no-verify");
  const json& e = j["total"]["energy"];
  // The PE's LUTs from the resource model (the report's LUT core line also holds the array's
  // glue, which does not switch per MAC).
  const msq::RunConfig cfg = msq::load_run_config(fc_config(), {});
  const double pe_luts =
      msq::sp2_pe_cost(cfg, msq::load_resource_costs(msq::default_resource_costs_path())).lut;
  ASSERT_GT(pe_luts, 0);
  const double macs = j["layers"][0]["lut_core"]["macs"].get<double>();
  ASSERT_EQ(macs, 20 * 64);
  EXPECT_NEAR(block(e, "lut_core"), macs * pe_luts * 0.044e-12, macs * 0.044e-12 / 64);
  EXPECT_EQ(block(e, "dsp_core"), 0.0);
  // The coefficients and their sources travel with the report.
  const json& c = e["costs"]["coefficients"]["lut_core.pj_per_lut"];
  EXPECT_EQ(c["value"].get<double>(), 0.044);
  EXPECT_NE(c["source"].get<std::string>().find("Horowitz"), std::string::npos);
  EXPECT_EQ(e["costs"]["name"], "xc7");
  // Static power of the device file over the run's latency.
  const double latency_s = j["total"]["latency_ms"].get<double>() / 1e3;
  EXPECT_NEAR(e["static_j"].get<double>(), 0.14 * latency_s, 1e-12);
}

TEST_F(Energy, FieldsAgreeWithEachOther) {
  const json j = run_json("run '" + std::string(MSQ_SOURCE_DIR) +
                          "/configs/examples/default.yaml' --no-verify");
  const json& t = j["total"];
  const json& e = t["energy"];
  double blocks = 0, layers = 0;
  for (const auto& [name, v] : e["by_block"].items()) blocks += v.get<double>();
  for (const json& l : j["layers"]) {
    layers += l["energy_j"].get<double>();
    double lb = 0;
    for (const auto& [name, v] : l["energy_by_block"].items()) lb += v.get<double>();
    EXPECT_NEAR(lb, l["energy_j"].get<double>(), 1e-12);
    // The stream split covers every byte the layer moved.
    const json& s = l["dram_bytes_by_stream"];
    EXPECT_EQ(
        s["weights"].get<int64_t>() + s["inputs"].get<int64_t>() + s["outputs"].get<int64_t>(),
        l["dram_bytes"].get<int64_t>())
        << l["name"];
  }
  const double total = e["total_j"].get<double>();
  EXPECT_NEAR(blocks, total, 1e-9 * total);
  // The actions, with static and DRAM standby energy, make up the total; one LUT PE operation
  // per LUT core MAC, at most two MACs per DSP operation.
  double actions = e["static_j"].get<double>() + e["dram"]["background_j"].get<double>();
  for (const auto& [name, a] : e["actions"].items()) actions += a["energy_j"].get<double>();
  EXPECT_NEAR(actions, total, 1e-9 * total);
  EXPECT_EQ(e["actions"]["lut_core.op"]["count"].get<int64_t>(), t["lut_core_macs"].get<int64_t>());
  EXPECT_GE(2 * e["actions"]["dsp_core.op"]["count"].get<int64_t>(),
            t["dsp_core_macs"].get<int64_t>());
  EXPECT_LT(e["actions"]["dsp_core.op"]["count"].get<int64_t>(), t["dsp_core_macs"].get<int64_t>());
  EXPECT_NEAR(layers, total, 1e-9 * total);
  EXPECT_NEAR(e["static_j"].get<double>() + e["dynamic_j"].get<double>(), total, 1e-12);
  const double latency_s = t["latency_ms"].get<double>() / 1e3;
  EXPECT_NEAR(e["avg_power_w"].get<double>(), total / latency_s, 1e-9);
  EXPECT_NEAR(e["j_per_frame"].get<double>(), total, 1e-15);  // batch 1
  EXPECT_NEAR(e["gops_per_w"].get<double>(), 2.0 * t["macs"].get<double>() / total / 1e9, 1e-6);
  // DRAM: the open and idle time cover the run; commands were counted.
  const json& d = e["dram"];
  EXPECT_TRUE(d["modelled"].get<bool>());
  EXPECT_NEAR(d["active_s"].get<double>() + d["precharged_s"].get<double>(), latency_s, 1e-12);
  EXPECT_GT(d["commands"]["activates"].get<int64_t>(), 0);
  EXPECT_GT(d["commands"]["reads"].get<int64_t>(), d["commands"]["writes"].get<int64_t>());
  EXPECT_GT(d["commands"]["refreshes"].get<int64_t>(), 0);
  // A burst moves 32 bytes on the 32-bit DDR3 bus: the reads carry at least the bytes read.
  int64_t read_bytes = 0;
  for (const json& l : j["layers"])
    read_bytes += l["dram_bytes_by_stream"]["weights"].get<int64_t>() +
                  l["dram_bytes_by_stream"]["inputs"].get<int64_t>();
  EXPECT_GE(d["commands"]["reads"].get<int64_t>() * 32, read_bytes);
}

TEST_F(Energy, CoefficientsOverrideFromTheConfigAndNameWhere) {
  const std::string cfg = fc_config();
  const json base = run_json("run '" + cfg + "' --no-verify");
  const json j = run_json("run '" + cfg +
                          "' --no-verify --set energy.lut_core.pj_per_lut=0.088 "
                          "--set device.static_power_w=0");
  const json& e0 = base["total"]["energy"];
  const json& e = j["total"]["energy"];
  EXPECT_NEAR(block(e, "lut_core"), 2 * block(e0, "lut_core"), 1e-18);
  EXPECT_EQ(e["static_j"].get<double>(), 0.0);
  EXPECT_EQ(e["costs"]["coefficients"]["lut_core.pj_per_lut"]["source"],
            "--set energy.lut_core.pj_per_lut=0.088");
  // The resolved config carries the value.
  EXPECT_EQ(j["config"]["energy"]["lut_core"]["pj_per_lut"].get<double>(), 0.088);
  // The other family's file by name.
  const json x = run_json("run '" + cfg + "' --no-verify --set energy.costs=xcup");
  EXPECT_EQ(x["total"]["energy"]["costs"]["name"], "xcup");
  EXPECT_NEAR(block(x["total"]["energy"], "lut_core"), block(e0, "lut_core") * 0.032 / 0.044,
              1e-18);
}

TEST_F(Energy, TerminalLineAndCsvColumns) {
  const Result r = run("run '" + fc_config() + "' --no-verify --csv r.csv");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("energy: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" GOPS/W; lut_core "), std::string::npos) << r.out;
  const std::string csv = read(path("r.csv"));
  EXPECT_NE(csv.find(",energy_j,energy_lut_core_j,energy_dsp_core_j,energy_buffers_j,"
                     "energy_dma_j,energy_dram_j,energy_static_j,"),
            std::string::npos)
      << csv;
}

TEST_F(Energy, BadCostFilesAndValuesExit2NamingFileLineKey) {
  const std::string cfg = fc_config();
  const std::string good =
      "lut_core:\n  pj_per_lut: {value: 0.04, source: a}\n"
      "dsp_core:\n  pj_per_product_bit: {value: 0.003, source: b}\n"
      "  pj_per_accumulator_bit: {value: 0.003, source: c}\n"
      "buffers:\n  pj_per_read: {value: 10, source: d}\n  pj_per_write: {value: 10, source: e}\n"
      "dma:\n  pj_per_read_byte: {value: 9, source: f}\n"
      "  pj_per_write_byte: {value: 17, source: g}\n";
  const std::string ok = write("ok.yaml", good);
  EXPECT_EQ(run("run '" + cfg + "' --no-verify --set energy.costs=" + ok).code, 0);
  struct Case {
    std::string file, want;
  };
  const std::vector<Case> cases = {
      {good + "dma2: {}\n", "bad.yaml:12: dma2: unknown key"},
      {"lut_core:\n  pj_per_lutt: {value: 0.04, source: a}\n",
       "bad.yaml:2: lut_core.pj_per_lutt: unknown key, expected one of pj_per_lut"},
      {"lut_core:\n  pj_per_lut: {value: 0.04}\n",
       "bad.yaml:2: lut_core.pj_per_lut.source: missing: every coefficient names where it comes"},
      {"lut_core:\n  pj_per_lut: {value: -1, source: a}\n",
       "bad.yaml:2: lut_core.pj_per_lut.value: expected a number in 0..1000 (got -1)"},
      {"lut_core:\n  pj_per_lut: 0.04\n",
       "bad.yaml:2: lut_core.pj_per_lut: expected {value: NUMBER, source: TEXT} (got 0.04)"},
      {"lut_core:\n  pj_per_lut: {value: 0.04, source: a}\n",
       "bad.yaml: dsp_core: missing section"},
  };
  for (const Case& c : cases) {
    const std::string bad = write("bad.yaml", c.file);
    const Result r = run("run '" + cfg + "' --no-verify --set energy.costs=" + bad);
    EXPECT_EQ(r.code, 2) << c.file;
    EXPECT_NE(r.err.find(c.want), std::string::npos) << r.err;
  }
  const Result v = run("run '" + cfg + "' --no-verify --set energy.dma.pj_per_read_byte=-3");
  EXPECT_EQ(v.code, 2);
  EXPECT_NE(v.err.find("energy.dma.pj_per_read_byte: expected a number in 0..100000 (got -3)"),
            std::string::npos)
      << v.err;
  const Result n = run("run '" + cfg + "' --no-verify --set energy.costs=nosuch");
  EXPECT_EQ(n.code, 2);
  EXPECT_NE(n.err.find("energy.costs: expected a cost name (xc7, xcup)"), std::string::npos)
      << n.err;
  const Result o = run("optimize '" + cfg + "' --objective speed");
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("--objective expects latency, energy or edp, got speed"), std::string::npos)
      << o.err;
}

}  // namespace

namespace {

// A CSV without quoted cells (the numeric rows of a sweep or optimize CSV) as header -> cell maps.
std::vector<std::map<std::string, std::string>> csv_rows(const std::string& text) {
  std::vector<std::vector<std::string>> lines;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::stringstream ls(line);
    for (std::string c; std::getline(ls, c, ',');) cells.push_back(c);
    if (!line.empty() && line.back() == ',') cells.push_back("");
    lines.push_back(cells);
  }
  std::vector<std::map<std::string, std::string>> rows;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::map<std::string, std::string> r;
    for (size_t c = 0; c < lines[0].size() && c < lines[i].size(); ++c)
      r[lines[0][c]] = lines[i][c];
    rows.push_back(r);
  }
  return rows;
}

class EnergyDse : public CliTest {};

TEST_F(EnergyDse, SweepRowsCarryEnergy) {
  write("c.yaml", "device: xc7z020\nworkload: {layers: [layer3.1.conv1]}\nverify: false\n");
  write("s.yaml",
        "name: e\nbase: c.yaml\naxes:\n  workload.sp2_fraction: [0.3, 0.7]\n"
        "  device.static_power_w: [0.1, 0.5]\n");
  const Result r = run("sweep s.yaml --jobs 2 --out s.csv");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rows = csv_rows(read(path("s.csv")));
  ASSERT_EQ(rows.size(), 4u);
  for (const auto& row : rows) {
    ASSERT_EQ(row.at("status"), "ok");
    const double j = std::stod(row.at("energy_j_per_frame"));
    const double w = std::stod(row.at("avg_power_w"));
    EXPECT_GT(j, 0);
    // Average power is energy over latency (batch 1), to the CSV's precision.
    EXPECT_NEAR(w, j / (std::stod(row.at("latency_ms")) / 1e3), 1e-3);
    EXPECT_GT(std::stod(row.at("gops_per_w")), 0);
  }
  // 0.4 W more static power over the same run: 0.4 W x the latency more energy.
  int pairs = 0;
  for (const auto& lo : rows)
    for (const auto& hi : rows)
      if (lo.at("workload.sp2_fraction") == hi.at("workload.sp2_fraction") &&
          lo.at("device.static_power_w") == "0.1" && hi.at("device.static_power_w") == "0.5") {
        ++pairs;
        EXPECT_NEAR(std::stod(hi.at("energy_j_per_frame")) - std::stod(lo.at("energy_j_per_frame")),
                    0.4 * std::stod(lo.at("latency_ms")) / 1e3, 1e-8);
      }
  EXPECT_EQ(pairs, 2);
}

TEST_F(EnergyDse, OptimizeObjectivesPickTheirBestPoint) {
  write("c.yaml", "device: xc7z020\nworkload: {layers: [layer3.1.conv1]}\n");
  for (const std::string objective : {"energy", "latency"}) {
    const Result r =
        // A budget of 120 simulations keeps this well inside the test timeout under the
        // sanitizers; the check holds for any budget.
        run("optimize c.yaml --jobs 2 --budget 120 --csv opt.csv --set clock_mhz=150 --objective " +
            objective);
    ASSERT_EQ(r.code, 0) << r.err;
    double best_j = 1e9, best_fps = 0;
    for (const auto& row : csv_rows(read(path("opt.csv")))) {
      if (row.at("status") != "ok") continue;
      best_j = std::min(best_j, std::stod(row.at("energy_j_per_frame")));
      best_fps = std::max(best_fps, std::stod(row.at("frames_per_s")));
    }
    ASSERT_LT(best_j, 1e9);
    if (objective == "energy") {
      EXPECT_NE(r.out.find("(least energy per frame)"), std::string::npos) << r.out;
      EXPECT_NE(r.out.find(fmt::format(" {:.3f} mJ/frame, ", best_j * 1e3)), std::string::npos)
          << r.out << "\nleast: " << best_j;
    } else {
      EXPECT_NE(r.out.find("(most frames/s)"), std::string::npos) << r.out;
      EXPECT_NE(r.out.find(fmt::format("  {:.1f} frames/s, ", best_fps)), std::string::npos)
          << r.out << "\nmost: " << best_fps;
    }
  }
}

}  // namespace
