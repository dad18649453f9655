// Engines as a list: any number of them, rows by capability and throughput, spill both ways,
// refusal of rows no engine can run, accumulators per engine, and the blocks' statistics
// reported from one source.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "models/accelerator.h"
#include "models/error.h"
#include "models/functional_model.h"
#include "models/hw/engine.h"
#include "models/hw/engine_registry.h"
#include "models/hw/engines/dsp48/dsp48.h"
#include "models/plan/mapper.h"
#include "models/tiler.h"
#include "models/workload_builder.h"
#include "sim/config_loader.h"
#include "tests/support/cli_fixture.h"
#include "tests/support/random_layers.h"

using namespace msq;
using msq::testing::CliTest;
using msq::testing::Result;
using nlohmann::json;

namespace {

const std::string kSrc = MSQ_SOURCE_DIR;

// A multiplier array built for SP2 rows that can take fixed-point rows too (a DSP48 array that
// the planner sees as an SP2 engine): with dsp48 it lets rows move in both directions.
EngineCaps mult_sp2_caps(const EngineSpec&) {
  EngineCaps c;
  c.sp2 = c.fixed = c.home_sp2 = true;
  c.min_bits = 2, c.max_bits = 8;
  return c;
}
int64_t mult_sp2_peak(const EngineSpec& s) {
  return int64_t(s.rows) * s.cols;
}
class MultSp2 : public DspCore {
 public:
  using DspCore::DspCore;
  const char* impl() const override { return "test_mult_sp2"; }
  EngineCaps caps() const override { return mult_sp2_caps(spec_); }
  int64_t peak_macs_per_cycle() const override { return mult_sp2_peak(spec_); }
};
std::unique_ptr<Engine> make_mult_sp2(const char* name, const EngineContext& ctx) {
  return std::make_unique<MultSp2>(name, ctx);
}
void register_mult_sp2() {
  EngineSpec d = dsp_engine_spec(DspCoreConfig{}, "mult");
  d.packing = false;
  register_engine_kind({"test_mult_sp2",
                        &make_mult_sp2,
                        &mult_sp2_caps,
                        &mult_sp2_peak,
                        {"rows", "cols", "pipeline_depth"},
                        d,
                        "test kind"});
}

EngineSpec spec(const char* impl, const char* name, int rows, int cols) {
  EngineSpec e = std::string(impl) == "lut_sp2" ? lut_engine_spec(LutCoreConfig{}, name)
                                                : dsp_engine_spec(DspCoreConfig{}, name);
  if (std::string(impl) == "test_mult_sp2") e.impl = impl, e.packing = false;
  e.rows = rows, e.cols = cols;
  return e;
}

int64_t rows_of_scheme(const QuantLayer& L, const LayerPlan& p, int engine, Scheme s) {
  int64_t n = 0;
  for (size_t m = 0; m < p.row_engine.size(); ++m)
    n += p.row_engine[m] == engine && L.scheme[m] == uint8_t(s);
  return n;
}

}  // namespace

class EngineList : public CliTest {};

TEST_F(EngineList, ThreeEnginesRunResNet18VerifiedWithRowsByThroughput) {
  const Result r = run("run '" + kSrc + "/configs/examples/three_engines.yaml' --json r.json");
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = read_json("r.json");
  EXPECT_EQ(j["verify"]["mismatches"].get<int64_t>(), 0);
  EXPECT_GT(j["verify"]["outputs_checked"].get<int64_t>(), 2'000'000);
  ASSERT_EQ(j["layers"].size(), 21u);
  std::map<std::string, int64_t> rows, busy;
  for (const json& l : j["layers"])
    for (const json& e : l["engines"]) {
      rows[e["name"]] += e["rows"].get<int64_t>();
      busy[e["name"]] += e["busy_cycles"].get<int64_t>();
    }
  // lut_big (32x32) has twice the throughput of lut_small (16x32): twice the SP2 rows, and both
  // finish together.
  EXPECT_EQ(rows["lut_big"], 2 * rows["lut_small"]);
  EXPECT_GT(rows["lut_small"], 0);
  EXPECT_EQ(busy["lut_big"], busy["lut_small"]);
  int64_t fixed = 0;
  for (const json& l : j["layers"]) fixed += l["fixed_rows"].get<int64_t>();
  EXPECT_EQ(rows["dsp_core"], fixed);
  // The contract's fields: dsp_core by name, lut_core the first engine built for SP2.
  const json& t = j["total"];
  ASSERT_EQ(t["engines"].size(), 3u);
  EXPECT_DOUBLE_EQ(t["lut_core_utilization"].get<double>(),
                   t["engines"][0]["utilization"].get<double>());
  EXPECT_DOUBLE_EQ(t["dsp_core_utilization"].get<double>(),
                   t["engines"][2]["utilization"].get<double>());
  EXPECT_EQ(j["layers"][0]["lut_core_busy_cycles"], j["layers"][0]["engines"][0]["busy_cycles"]);
  EXPECT_EQ(t["engines"][1]["accumulator_bits"].get<int>(), 24);
  EXPECT_NE(r.out.find("lut_small busy%"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("lut_small MAC%"), std::string::npos) << r.out;
}

TEST(EngineListPlan, RowsSpillInBothDirectionsWhereTheCapabilitiesAllow) {
  register_mult_sp2();
  RunConfig c;
  c.accelerator.engines = {spec("test_mult_sp2", "mult", 8, 8), spec("dsp48", "dsp", 8, 8)};
  c.accelerator.engines[1].packing = false;
  msq::testing::RandomLayerSpec sp;
  sp.shape = msq::testing::conv("c", 16, 8, 64, 3, 1, 1);
  for (double frac : {0.9, 0.1}) {
    sp.sp2_fraction = frac;
    const QuantLayer L = msq::testing::random_layer(sp, 3);
    c.accelerator.scheduler.spill = false;
    const LayerPlan home = plan_layer(L, c, "c");
    // Without spill every row stays on the engine built for its scheme.
    EXPECT_EQ(rows_of_scheme(L, home, 0, Scheme::Fixed), 0);
    EXPECT_EQ(rows_of_scheme(L, home, 1, Scheme::Sp2), 0);
    EXPECT_EQ(home.spilled_rows, 0);
    c.accelerator.scheduler.spill = true;
    const LayerPlan p = plan_layer(L, c, "c");
    if (frac > 0.5) {
      EXPECT_GT(rows_of_scheme(L, p, 1, Scheme::Sp2), 0) << "SP2 rows to the DSP engine";
      EXPECT_EQ(rows_of_scheme(L, p, 0, Scheme::Fixed), 0);
    } else {
      EXPECT_GT(rows_of_scheme(L, p, 0, Scheme::Fixed), 0) << "fixed rows to the SP2 engine";
      EXPECT_EQ(rows_of_scheme(L, p, 1, Scheme::Sp2), 0);
    }
    EXPECT_EQ(p.spilled_rows, p.engines[0].spilled_rows + p.engines[1].spilled_rows);
    EXPECT_GT(p.spilled_rows, 0);
    // Equal arrays: the spill evens the rows out.
    EXPECT_LE(std::abs(p.engines[0].rows - p.engines[1].rows), 8);
    // Deterministic.
    EXPECT_EQ(plan_layer(L, c, "c").row_engine, p.row_engine);
  }
}

TEST(EngineListPlan, SpilledFixedRowsComputeTheReferenceValues) {
  register_mult_sp2();
  RunConfig c;
  c.accelerator.engines = {spec("test_mult_sp2", "mult", 8, 8), spec("dsp48", "dsp", 8, 8)};
  c.accelerator.scheduler.spill = true;
  msq::testing::RandomLayerSpec sp;
  sp.shape = msq::testing::conv("c", 16, 8, 64, 3, 1, 1);
  sp.sp2_fraction = 0.1;
  Workload wl;
  wl.layers.push_back(msq::testing::random_layer(sp, 5));
  wl.inputs.push_back(msq::testing::random_input(sp.shape, 8, 6));
  const SimResult r = simulate(c, wl, SimOptions{});
  const FunctionalResult f = run_functional(wl.layers[0], wl.inputs[0]);
  EXPECT_GT(r.layers[0].core[0].spilled_rows, 0);
  EXPECT_GT(r.layers[0].core[0].macs, 0);
  EXPECT_EQ(r.layers[0].out.data, f.out.data);
}

TEST_F(EngineList, ARowNoEngineCanRunIsRefused) {
  const std::string cfg = write("c.yaml",
                                "accelerator:\n  engines: [{impl: lut_sp2, name: only_sp2}]\n"
                                "workload: {sp2_fraction: 0.5, layers: [conv1]}\n");
  const Result r = run("run '" + cfg + "'");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.err.find("layer 0 (conv1): row "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(fixed, 4 bits) has no engine that can run it; the engines are only_sp2 "
                       "(lut_sp2: SP2 rows of 3..8 bits)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  // validate refuses it the same way.
  EXPECT_EQ(run("validate '" + cfg + "'").code, 2);
}

// A list of one engine that runs every row (dsp48 takes SP2 rows too) is a valid design: the
// run's per-layer estimate read a second engine that does not exist (a segmentation fault).
TEST_F(EngineList, OneEngineThatRunsEveryRowRuns) {
  const std::string cfg = write("c.yaml",
                                "accelerator:\n  engines: [{impl: dsp48, name: only_dsp}]\n"
                                "workload: {sp2_fraction: 0.5, layers: [fc]}\n");
  for (const char* opts : {"", " --no-verify"}) {
    const Result r = run("run '" + cfg + "' --json r.json" + opts);
    EXPECT_EQ(r.code, 0) << opts << r.err;
    EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
    const nlohmann::json j = read_json("r.json");
    ASSERT_EQ(j["layers"].size(), 1u);
    EXPECT_GT(j["layers"][0]["cycles"].get<int64_t>(), 0);
  }
}

TEST(EngineListAccumulators, EachEngineSumsInItsOwnRegisters) {
  // Sums of about 17 bits: a 16-bit register overflows, a 32-bit one does not.
  RunConfig c;
  c.accelerator.engines = {spec("lut_sp2", "lut16", 8, 8), spec("dsp48", "dsp32", 8, 8)};
  c.accelerator.engines[0].own_accumulator = true;
  c.accelerator.engines[0].accumulator = {16, Overflow::Wrap};
  c.accelerator.engines[1].own_accumulator = true;
  c.accelerator.engines[1].accumulator = {32, Overflow::Wrap};
  msq::testing::RandomLayerSpec sp;
  sp.shape = msq::testing::conv("c", 32, 8, 32, 3, 1, 1);
  sp.sp2_fraction = 0.5;
  sp.acc_bits = 32;  // the layer's own: what a shared accumulator would use
  Workload wl;
  wl.layers.push_back(msq::testing::random_layer(sp, 9));
  wl.inputs.push_back(msq::testing::random_input(sp.shape, 8, 10));
  const SimResult r = simulate(c, wl, SimOptions{});

  const QuantLayer& L = wl.layers[0];
  QuantLayer per_row = L;  // SP2 rows on the 16-bit engine, fixed rows on the 32-bit one
  for (size_t m = 0; m < L.scheme.size(); ++m) {
    per_row.row_acc_bits.push_back(L.scheme[m] == uint8_t(Scheme::Sp2) ? 16 : 32);
    per_row.row_overflow.push_back(uint8_t(Overflow::Wrap));
  }
  const FunctionalResult want = run_functional(per_row, wl.inputs[0]);
  QuantLayer all16 = L;
  all16.acc_bits = 16;
  const uint64_t shared16 = run_functional(all16, wl.inputs[0]).overflows;
  const uint64_t shared32 = run_functional(L, wl.inputs[0]).overflows;
  ASSERT_GT(want.overflows, 0u);
  ASSERT_EQ(shared32, 0u);
  ASSERT_GT(shared16, want.overflows);  // the fixed rows would overflow too at 16 bits
  EXPECT_EQ(r.layers[0].overflows, want.overflows);
  EXPECT_EQ(r.layers[0].out.data, want.out.data);
}

TEST_F(EngineList, OwnAccumulatorsVerifyWithZeroMismatches) {
  const std::string cfg =
      write("c.yaml",
            "accelerator:\n  engines:\n"
            "    - {impl: lut_sp2, name: lut_core, accumulator: {bits: 12, overflow: saturate}}\n"
            "    - {impl: dsp48, name: dsp_core}\n"
            "workload: {sp2_fraction: 0.5, layers: [layer4.1.conv2]}\n");
  const Result r = run("run '" + cfg + "' --json r.json");
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = read_json("r.json");
  EXPECT_EQ(j["verify"]["mismatches"].get<int64_t>(), 0);
  EXPECT_EQ(j["verify"]["overflow_count_mismatches"].get<int64_t>(), 0);
  EXPECT_GT(j["layers"][0]["overflows"].get<int64_t>(), 0);
}

TEST_F(EngineList, StatsInJsonAndCsvComeFromTheSameCounters) {
  const Result r = run("run '" + kSrc +
                       "/configs/examples/default.yaml' --set 'workload.layers=[conv1, fc]' "
                       "--json r.json --csv r.csv");
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = read_json("r.json");
  std::istringstream csv(read(path("r.csv")));
  std::string line;
  std::getline(csv, line);
  std::vector<std::string> head;
  for (std::stringstream ss(line); std::getline(ss, line, ',');) head.push_back(line);
  int compared = 0;
  std::map<std::string, int64_t> sum;
  for (size_t li = 0; std::getline(csv, line); ++li) {
    std::vector<std::string> cells;
    for (std::stringstream ss(line); std::getline(ss, line, ',');) cells.push_back(line);
    ASSERT_EQ(cells.size(), head.size());
    for (size_t c = 0; c < head.size(); ++c) {
      if (head[c].rfind("stats.", 0) != 0) continue;
      const std::string rest = head[c].substr(6);
      const std::string block = rest.substr(0, rest.rfind('.')),
                        counter = rest.substr(rest.rfind('.') + 1);
      const json& v = j["layers"][li]["stats"][block][counter];
      EXPECT_EQ(std::to_string(v["value"].get<int64_t>()), cells[c]) << head[c];
      sum[rest] += v["value"].get<int64_t>();
      ++compared;
    }
  }
  EXPECT_GT(compared, 2 * 30);
  // Per block: the engines', DMA's and buffers' totals are the layers' sums; busy cycles agree
  // with the engines' report fields; the DMA's bytes with the layers' DRAM traffic.
  for (const char* k : {"lut_core.busy", "dsp_core.macs", "dma.inputs_bytes", "dram.rd",
                        "input_buffer.write_bytes", "weight_buffer_lut_core.read_bytes"}) {
    const std::string s = k;
    const json& t = j["stats"][s.substr(0, s.find('.'))][s.substr(s.find('.') + 1)];
    EXPECT_EQ(t["value"].get<int64_t>(), sum[s]) << k;
  }
  EXPECT_EQ(j["stats"]["lut_core"]["busy"]["unit"], "cycles");
  EXPECT_EQ(j["stats"]["dma"]["weights_bytes"]["unit"], "bytes");
  int64_t dram = 0;
  for (const json& l : j["layers"]) {
    dram += l["dram_bytes"].get<int64_t>();
    EXPECT_EQ(l["stats"]["lut_core"]["busy"]["value"], l["lut_core_busy_cycles"]);
  }
  const json& d = j["stats"]["dma"];
  EXPECT_EQ(d["weights_bytes"]["value"].get<int64_t>() + d["inputs_bytes"]["value"].get<int64_t>() +
                d["outputs_bytes"]["value"].get<int64_t>(),
            dram);
  // Each input load is one write transaction of the input buffer.
  EXPECT_EQ(j["stats"]["input_buffer"]["write_bytes"]["value"], d["inputs_bytes"]["value"]);
}

// optimize sizes every engine of the list (it refused any list but a LUT and a DSP engine);
// docs/optimize.md and tests/test_optimize.cpp have the search itself.
TEST_F(EngineList, OptimizeSizesEveryEngineOfTheList) {
  const Result r = run("optimize '" + kSrc +
                       "/configs/examples/three_engines.yaml' --jobs 2 --budget 2 "
                       "--set 'workload.layers=[layer3.1.conv1]' --sp2-fractions 0.75 "
                       "--buffer-splits 48/64/32 --out best.yaml");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* axis : {"  lut_big array     97 values", "  lut_small array   97 values",
                           "  dsp_core array    79 values"})
    EXPECT_NE(r.out.find(axis), std::string::npos) << axis << "\n" << r.out;
  const Result v = run("validate best.yaml");
  EXPECT_EQ(v.code, 0) << v.err;
}

// The mapping search takes any engine list: on three engines (two lut_sp2 and a dsp48) every
// layer is searched, each layer's estimate is no worse than the fixed rule's, the tiles fit each
// engine's part of the weight buffer, and the values verify. (It refused any list but one engine
// for each scheme.)
TEST_F(EngineList, MappingSearchRunsOnThreeEnginesVerifiedAndNotWorseThanFixed) {
  const Result r = run("run '" + kSrc +
                       "/configs/examples/three_engines.yaml' --json s.json --set "
                       "accelerator.scheduler.mapping=search");
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = read_json("s.json");
  EXPECT_EQ(j["verify"]["mismatches"].get<int64_t>(), 0);
  EXPECT_GT(j["verify"]["outputs_checked"].get<int64_t>(), 2'000'000);
  ASSERT_EQ(j["layers"].size(), 21u);
  int64_t better = 0;
  for (const json& l : j["layers"]) {
    const json& m = l["mapping"];
    EXPECT_TRUE(m["searched"].get<bool>()) << l["name"];
    const int64_t est = m["estimated_cycles"].get<int64_t>();
    const int64_t fixed = m["fixed_estimated_cycles"].get<int64_t>();
    EXPECT_GT(est, 0) << l["name"];
    EXPECT_LE(est, fixed) << l["name"];
    better += est < fixed;
    ASSERT_EQ(l["engines"].size(), 3u);
  }
  EXPECT_GT(better, 0);
}

// Depthwise layers on three engines: the search splits the input ports among the three arrays'
// groups per block (more than one group in a block), and the values verify.
TEST_F(EngineList, MappingSearchPacksDepthwiseGroupsOnThreeEngines) {
  const Result r = run("run '" + kSrc +
                       "/configs/examples/three_engines.yaml' --json d.json --set "
                       "accelerator.scheduler.mapping=search --set workload.network=mobilenet_v2 "
                       "--set workload.layers=[features.8.dw,features.14.dw]");
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = read_json("d.json");
  EXPECT_EQ(j["verify"]["mismatches"].get<int64_t>(), 0);
  ASSERT_EQ(j["layers"].size(), 2u);
  for (const json& l : j["layers"]) {
    EXPECT_GT(l["mapping"]["groups_per_block"].get<int>(), 1) << l["name"];
    EXPECT_LT(l["mapping"]["estimated_cycles"].get<int64_t>(),
              l["mapping"]["fixed_estimated_cycles"].get<int64_t>())
        << l["name"];
  }
}

// The same at plan level, layer by layer: every engine's weight tile fits its third of the weight
// buffer, every row runs on an engine that can run it, and the estimate is never above the fixed
// rule's. A list of one engine is searched too.
TEST(EngineListPlan, MappingSearchPlansAnyEngineList) {
  for (const char* cfg_name : {"three_engines.yaml", "one"}) {
    const bool one = std::string(cfg_name) == "one";
    RunConfig c = load_run_config(kSrc + "/configs/examples/three_engines.yaml",
                                  {"accelerator.scheduler.mapping=search"});
    if (one) c.accelerator.engines = {spec("dsp48", "only_dsp", 16, 16)};
    const size_t E = c.accelerator.engines.size();
    const Workload wl = build_workload(c.workload.network, load_network(c.workload), c.workload,
                                       c.accelerator.accumulator, false);
    std::vector<EngineCaps> caps;
    for (const EngineSpec& e : c.accelerator.engines)
      caps.push_back(engine_kind(e.impl, e.name).caps(e));
    for (const QuantLayer& q : wl.layers) {
      const std::string where = cfg_name + std::string(" ") + q.shape.name;
      const LayerPlan p = plan_layer(q, c, q.shape.name);
      ASSERT_TRUE(p.map.searched) << where;
      ASSERT_EQ(p.engines.size(), E) << where;
      const MappingFootprint f = plan_footprint(p, q);
      ASSERT_EQ(f.weights.size(), E) << where;
      for (size_t e = 0; e < E; ++e) EXPECT_LE(f.weights[e], p.weight_slot_bytes) << where;
      EXPECT_LE(f.input, p.input_slot_bytes) << where;
      EXPECT_LE(f.output, p.output_slot_bytes) << where;
      const MappingEstimate est = estimate_plan(p, q, c);
      ASSERT_EQ(est.compute_cycles.size(), E) << where;
      EXPECT_EQ(est.cycles, p.map.est_cycles) << where;
      EXPECT_LE(p.map.est_cycles, p.map.fixed_est_cycles) << where;
      for (size_t m = 0; m < p.row_engine.size(); ++m)
        EXPECT_TRUE(caps[size_t(p.row_engine[m])].can_run(q.scheme[m], q.bits[m])) << where;
    }
  }
}

// A list of one engine (a dsp48, which runs SP2 rows too) runs under the search and the per-layer
// balance, verified.
TEST_F(EngineList, OneEngineListSearchesAndBalances) {
  const std::string cfg = write("c.yaml",
                                "accelerator:\n  engines: [{impl: dsp48, name: only_dsp}]\n"
                                "  scheduler: {mapping: search, balance: per_layer}\n"
                                "workload: {sp2_fraction: 0.5, layers: [conv1, layer3.0.conv2, "
                                "fc]}\n");
  const Result r = run("run '" + cfg + "' --json r.json");
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = read_json("r.json");
  EXPECT_EQ(j["verify"]["mismatches"].get<int64_t>(), 0);
  ASSERT_EQ(j["layers"].size(), 3u);
  for (const json& l : j["layers"]) {
    EXPECT_TRUE(l["mapping"]["searched"].get<bool>()) << l["name"];
    EXPECT_LE(l["mapping"]["estimated_cycles"].get<int64_t>(),
              l["mapping"]["fixed_estimated_cycles"].get<int64_t>())
        << l["name"];
  }
}

// Per-layer balance on three engines: rows move only to engines that can run them (SP2 rows
// between the LUT arrays and to the DSP array; fixed-point rows stay on the DSP array), each
// layer's estimate is no worse than the capability split's, and with most rows SP2 (the DSP
// array idle) some SP2 rows move to it. Values verify.
TEST(EngineListPlan, PerLayerBalanceOnThreeEngines) {
  for (const char* mapping : {"fixed", "search"}) {
    RunConfig c =
        load_run_config(kSrc + "/configs/examples/three_engines.yaml",
                        {std::string("accelerator.scheduler.mapping=") + mapping,
                         "workload.sp2_fraction=0.9", "accelerator.scheduler.balance=per_layer"});
    RunConfig plain = c;
    plain.accelerator.scheduler.balance = BalanceMode::Fixed;
    const Workload wl = build_workload(c.workload.network, load_network(c.workload), c.workload,
                                       c.accelerator.accumulator, false);
    int64_t sp2_on_dsp = 0;
    for (const QuantLayer& q : wl.layers) {
      const std::string where = mapping + std::string(" ") + q.shape.name;
      const LayerPlan p = plan_layer(q, c, q.shape.name);
      const LayerPlan f = plan_layer(q, plain, q.shape.name);
      EXPECT_LE(estimate_plan(p, q, c).cycles, estimate_plan(f, q, plain).cycles) << where;
      for (size_t m = 0; m < p.row_engine.size(); ++m) {
        if (q.scheme[m] != uint8_t(Scheme::Sp2)) {
          EXPECT_EQ(p.row_engine[m], 2) << where;
        }
        sp2_on_dsp += q.scheme[m] == uint8_t(Scheme::Sp2) && p.row_engine[m] == 2;
      }
    }
    EXPECT_GT(sp2_on_dsp, 0) << mapping;
  }
}

TEST_F(EngineList, PerLayerBalanceOnThreeEnginesVerifies) {
  const Result r = run("run '" + kSrc +
                       "/configs/examples/three_engines.yaml' --set "
                       "accelerator.scheduler.mapping=search --set "
                       "accelerator.scheduler.balance=per_layer --set workload.sp2_fraction=0.9 "
                       "--set workload.layers=[layer3.0.conv2,layer4.0.conv1]");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(" 0 mismatches"), std::string::npos) << r.out;
}

// A mapping file's lut_share names the SP2 engine's share against one other engine: with three
// engines it is refused with one message naming the file, line and column.
TEST_F(EngineList, LutShareNeedsTwoEngines) {
  const std::string csv = write("map.csv",
                                "layer,tile_m,k_channels,tile_rows,lut_share\n"
                                "conv1,64,,4,0.5\n");
  const Result r = run("run '" + kSrc +
                       "/configs/examples/three_engines.yaml' --no-verify --set "
                       "accelerator.scheduler.mapping=given --set "
                       "accelerator.scheduler.mapping_file=" +
                       csv);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.err.find("map.csv:2: lut_share: layer conv1: a share of the rows on the SP2 engine "
                       "needs exactly two engines, one built for SP2 rows and one for "
                       "fixed-point rows (accelerator.engines lists 3); expected an empty "
                       "lut_share"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// Two engines in the other order (fixed-point engine listed first) still search: the estimate
// reads each slot's own keys, and the result verifies.
TEST_F(EngineList, MappingSearchTakesTwoEnginesInEitherOrder) {
  const std::string cfg =
      write("c.yaml",
            "accelerator:\n  engines: [{impl: dsp48, rows: 16, cols: 16}, {impl: lut_sp2, rows: "
            "32, cols: 32}]\n  scheduler: {mapping: search, balance: per_layer}\n"
            "workload: {layers: [conv1, layer1.0.conv1]}\n");
  const Result r = run("run '" + cfg + "'");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("0 mismatches"), std::string::npos) << r.out;
}
