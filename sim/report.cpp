#include "sim/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>
#include <tuple>

#include "models/graph/graph_check.h"
#include "models/kernels/isa.h"
#include "sim/config_loader.h"
#include "sim/csv.h"
#include "sim/energy_report.h"

namespace msq {

using nlohmann::json;

namespace {

double gops_of(int64_t macs, int64_t cycles, double mhz) {
  return cycles > 0 ? 2.0 * double(macs) * mhz * 1e6 / double(cycles) / 1e9 : 0.0;
}
double gbps_of(int64_t bytes, int64_t cycles, double mhz) {
  return cycles > 0 ? double(bytes) * mhz * 1e6 / double(cycles) / 1e9 : 0.0;
}
json mapping_json(const LayerResult& l) {
  const LoopMapping& m = l.mapping;
  const auto est = [](int64_t v) { return v > 0 ? json(v) : json(nullptr); };
  return {{"searched", m.searched},
          {"given", m.given},
          {"order", m.order},
          {"tile_m", l.tile_m},
          {"tile_k", l.tile_k},
          {"tile_n", l.tn},
          {"m_tiles", l.m_tiles},
          {"k_tiles", l.k_tiles},
          {"n_tiles", l.tiles},
          {"k_channels", l.k_channels},
          {"tile_rows", l.tile_rows},
          {"tile_cols", l.tile_cols},
          {"keep_inputs_level", m.keep_in},
          {"keep_weights_level", m.keep_w},
          {"groups_per_block", l.group_pack},
          {"weight_reloads",
           l.weight_bytes > 0 ? json(double(l.dram_by[0]) / double(l.weight_bytes)) : json(0)},
          {"weight_dram_bytes", l.dram_by[0]},
          {"input_dram_bytes", l.dram_by[1]},
          {"output_dram_bytes", l.dram_by[2]},
          {"estimated_cycles", est(m.est_cycles)},
          {"estimated_dram_bytes", est(m.est_dram_bytes)},
          {"fixed_estimated_cycles", est(m.fixed_est_cycles)},
          {"fixed_estimated_dram_bytes", est(m.fixed_est_dram_bytes)},
          {"candidates", m.candidates}};
}

json core_json(const CoreResult& c) {
  return {{"busy_cycles", c.busy},
          {"jobs", c.jobs},
          {"macs", c.macs},
          {"stall_cycles",
           {{"dram", c.stall_dram}, {"buffer", c.stall_buffer}, {"other_core", c.stall_other}}}};
}

// The engines' short labels in the terminal: the old spelling's two keep LUT and DSP.
std::string engine_label(const EngineInfo& e) {
  return e.name == "lut_core" ? "LUT" : e.name == "dsp_core" ? "DSP" : e.name;
}
std::string engine_title(const EngineInfo& e) {
  return e.name == "lut_core" ? "LUT core" : e.name == "dsp_core" ? "DSP core" : e.name;
}

double share(int64_t part, int64_t whole) {
  return whole > 0 ? double(part) / double(whole) : 0.0;
}

int64_t total_risk_rows(const std::vector<OverflowRisk>& risk) {
  int64_t n = 0;
  for (const OverflowRisk& r : risk) n += r.rows;
  return n;
}

const char* overflow_mode(const Workload& wl) {
  return !wl.layers.empty() && wl.layers[0].overflow == Overflow::Saturate ? "saturate" : "wrap";
}

bool bound_from_weights(const std::vector<OverflowRisk>& risk) {
  return !risk.empty() && risk[0].from_weights;
}

// Rows summed in an engine's own accumulator (accelerator.engines[].accumulator).
std::string per_row_note(const Workload& wl) {
  for (const QuantLayer& q : wl.layers)
    if (!q.row_acc_bits.empty()) return ", other widths in engines' own accumulators";
  return "";
}

int acc_bits_of(const Workload& wl) {
  return wl.layers.empty() ? 0 : wl.layers[0].acc_bits;
}

// A layer's energy in J for the CSV: the total ("") or one block's.
std::string energy_cell(const EnergyResult& e, size_t layer, const std::string& block) {
  if (layer >= e.layers.size()) return "";
  const LayerEnergy& l = e.layers[layer];
  double v = block.empty() ? l.total_j : 0.0;
  for (const auto& [name, j] : l.blocks.by_block)
    if (name == block) v = j;
  return fmt::format("{:.6g}", v);
}

}  // namespace

std::vector<uint64_t> layer_overflows(const Session& s) {
  std::vector<uint64_t> v;
  for (const LayerResult& l : s.sim.layers) v.push_back(l.overflows);
  return v;
}

double mac_utilization(int64_t macs, int64_t cycles, int64_t peak_per_cycle) {
  return cycles > 0 && peak_per_cycle > 0 ? double(macs) / (double(cycles) * double(peak_per_cycle))
                                          : 0.0;
}

std::pair<int, int> contract_engines(const SimResult& r) {
  int lut = -1, dsp = -1;
  for (size_t e = 0; e < r.engines.size(); ++e) {
    if (r.engines[e].name == "lut_core") lut = int(e);
    if (r.engines[e].name == "dsp_core") dsp = int(e);
  }
  for (size_t e = 0; e < r.engines.size() && lut < 0; ++e)
    if (r.engines[e].caps.home_sp2 && int(e) != dsp) lut = int(e);
  for (size_t e = 0; e < r.engines.size() && dsp < 0; ++e)
    if (r.engines[e].caps.home_fixed && int(e) != lut) dsp = int(e);
  return {lut, dsp};
}

Totals totals(const Session& s) {
  Totals t;
  t.cycles = s.sim.total_cycles;
  const size_t E = s.sim.engines.size();
  t.busy.assign(E, 0);
  t.engine_macs.assign(E, 0);
  for (const LayerResult& l : s.sim.layers) {
    t.macs += l.macs;
    t.dram_bytes += l.dram_bytes;
    for (size_t e = 0; e < E && e < l.core.size(); ++e) {
      t.busy[e] += l.core[e].busy;
      t.engine_macs[e] += l.core[e].macs;
    }
  }
  int64_t all_macs = 0;
  for (size_t e = 0; e < E; ++e) {
    t.util.push_back(t.cycles > 0 ? double(t.busy[e]) / double(t.cycles) : 0.0);
    t.mac_util_of.push_back(
        mac_utilization(t.engine_macs[e], t.cycles, s.sim.engines[e].peak_macs_per_cycle));
    t.peak += s.sim.engines[e].peak_macs_per_cycle;
    all_macs += t.engine_macs[e];
  }
  t.mac_util = mac_utilization(all_macs, t.cycles, t.peak);
  std::tie(t.lut, t.dsp) = contract_engines(s.sim);
  if (t.lut >= 0) {
    t.lut_util = t.util[size_t(t.lut)], t.lut_mac_util = t.mac_util_of[size_t(t.lut)];
    t.core_macs[0] = t.engine_macs[size_t(t.lut)];
  }
  if (t.dsp >= 0) {
    t.dsp_util = t.util[size_t(t.dsp)], t.dsp_mac_util = t.mac_util_of[size_t(t.dsp)];
    t.core_macs[1] = t.engine_macs[size_t(t.dsp)];
  }
  // The vector engine's traffic is the network's too.
  for (const OpResult& o : s.sim.ops)
    if (o.layer < 0) t.dram_bytes += o.dram_bytes;
  const double mhz = s.cfg.clock_mhz;
  t.latency_ms = double(t.cycles) / mhz / 1e3;
  t.gops = gops_of(t.macs, t.cycles, mhz);
  t.frames_per_s = t.cycles > 0 ? s.cfg.workload.batch / (t.latency_ms / 1e3) : 0.0;
  return t;
}

void walk_stats(const std::vector<StatGroup>& groups, int layer, const StatVisitor& visit) {
  for (const StatGroup& g : groups)
    for (size_t i = 0; i < g.counters().size(); ++i)
      visit(g.block(), g.counters()[i], layer < 0 ? g.total(int(i)) : g.at(int(i), layer));
}

json stats_json(const std::vector<StatGroup>& groups, int layer) {
  json j = json::object();
  walk_stats(groups, layer, [&](const std::string& block, const StatGroup::Counter& c, int64_t v) {
    j[block][c.name] = {{"value", v}, {"unit", unit_name(c.unit)}};
  });
  return j;
}

json totals_json(const Session& s) {
  const Totals t = totals(s);
  const double mhz = s.cfg.clock_mhz;
  const auto peak_of = [&](int e) {
    return e < 0 ? int64_t(0) : s.sim.engines[size_t(e)].peak_macs_per_cycle;
  };
  json engines = json::array();
  for (size_t e = 0; e < s.sim.engines.size(); ++e) {
    const EngineInfo& info = s.sim.engines[e];
    engines.push_back({{"name", info.name},
                       {"impl", info.impl},
                       {"busy_cycles", t.busy[e]},
                       {"utilization", t.util[e]},
                       {"mac_utilization", t.mac_util_of[e]},
                       {"macs", t.engine_macs[e]},
                       {"peak_macs_per_cycle", info.peak_macs_per_cycle},
                       {"accumulator_bits", info.acc_bits ? json(info.acc_bits) : json(nullptr)}});
  }
  return {{"cycles", t.cycles},
          {"latency_ms", t.latency_ms},
          {"gops", t.gops},
          {"frames_per_s", t.frames_per_s},
          {"macs", t.macs},
          {"dram_bytes", t.dram_bytes},
          {"lut_core_utilization", t.lut_util},
          {"dsp_core_utilization", t.dsp_util},
          {"mac_utilization", t.mac_util},
          {"lut_core_mac_utilization", t.lut_mac_util},
          {"dsp_core_mac_utilization", t.dsp_mac_util},
          {"lut_core_macs", t.core_macs[0]},
          {"dsp_core_macs", t.core_macs[1]},
          {"peak_macs_per_cycle",
           {{"lut_core", peak_of(t.lut)}, {"dsp_core", peak_of(t.dsp)}, {"total", t.peak}}},
          {"engines", engines},
          {"dram_gbps", gbps_of(t.dram_bytes, t.cycles, mhz)},
          {"dram_peak_gbps", s.sim.dram_peak_bytes_per_s / 1e9},
          {"dram_row_hit_rate", s.sim.dram.hit_rate()},
          {"overflow_risk_rows", total_risk_rows(s.risk)},
          {"energy", energy_json(session_energy(s), s.cfg)}};
}

json report_json(const Session& s, const json& resources) {
  const double mhz = s.cfg.clock_mhz;
  const auto [lut, dsp] = contract_engines(s.sim);
  int64_t peak_all = 0;
  for (const EngineInfo& e : s.sim.engines) peak_all += e.peak_macs_per_cycle;
  const EnergyResult energy = session_energy(s);
  json layers = json::array();
  for (size_t i = 0; i < s.sim.layers.size(); ++i) {
    const LayerResult& l = s.sim.layers[i];
    const CoreResult none;
    const CoreResult& lc = lut >= 0 ? l.core[size_t(lut)] : none;
    const CoreResult& dc = dsp >= 0 ? l.core[size_t(dsp)] : none;
    const int64_t lp = lut >= 0 ? s.sim.engines[size_t(lut)].peak_macs_per_cycle : 0;
    const int64_t dp = dsp >= 0 ? s.sim.engines[size_t(dsp)].peak_macs_per_cycle : 0;
    int64_t all_macs = 0;
    json engines = json::array();
    for (size_t e = 0; e < l.core.size(); ++e) {
      const CoreResult& c = l.core[e];
      all_macs += c.macs;
      json o = core_json(c);
      o["name"] = s.sim.engines[e].name;
      o["impl"] = s.sim.engines[e].impl;
      o["utilization"] = share(c.busy, l.cycles);
      o["mac_utilization"] =
          mac_utilization(c.macs, l.cycles, s.sim.engines[e].peak_macs_per_cycle);
      o["rows"] = c.rows;
      o["spilled_rows"] = c.spilled_rows;
      engines.push_back(std::move(o));
    }
    const QuantLayer& q = s.wl.layers[i];
    // The contract's {checked, mismatches} in every case: nothing checked without verification.
    json v = {{"checked", 0}, {"mismatches", 0}};
    if (s.verified)
      v = {{"checked", s.verify[i].checked},
           {"mismatches", s.verify[i].mismatches},
           {"overflows_expected", s.verify[i].expected_overflows}};
    layers.push_back({
        {"name", l.name},
        {"m", l.m},
        {"k", l.k},
        {"n", l.n},
        {"sp2_rows", l.sp2_rows},
        {"fixed_rows", l.fixed_rows},
        {"fixed8_rows",
         std::count_if(q.bits.begin(), q.bits.end(), [&](uint8_t b) { return b >= 8; })},
        {"cycles", l.cycles},
        {"start_cycle", l.start_cycle},
        {"end_cycle", l.end_cycle},
        {"macs", l.macs},
        {"gops", gops_of(l.macs, l.cycles, mhz)},
        {"bound", l.bound},
        {"lut_core_busy_cycles", lc.busy},
        {"dsp_core_busy_cycles", dc.busy},
        {"lut_core_busy_share", share(lc.busy, l.cycles)},
        {"dsp_core_busy_share", share(dc.busy, l.cycles)},
        {"mac_utilization", mac_utilization(all_macs, l.cycles, peak_all)},
        {"lut_core_mac_utilization", mac_utilization(lc.macs, l.cycles, lp)},
        {"dsp_core_mac_utilization", mac_utilization(dc.macs, l.cycles, dp)},
        {"lut_core", core_json(lc)},
        {"dsp_core", core_json(dc)},
        {"engines", engines},
        {"stats", stats_json(s.sim.stats, int(i))},
        {"memory_cycles", l.memory_cycles},
        {"dram_bytes", l.dram_bytes},
        {"dram_bytes_by_stream",
         {{"weights", l.dram_by[0]}, {"inputs", l.dram_by[1]}, {"outputs", l.dram_by[2]}}},
        {"dram_gbps", gbps_of(l.dram_bytes, l.cycles, mhz)},
        {"overflows", l.overflows},
        {"overflow_risk_rows", s.risk[i].rows},
        {"acc_bits_needed", s.risk[i].bits_needed},
        {"values_computed", s.verified},
        {"verify", v},
        {"rows", {{"lut_core", lc.rows}, {"dsp_core", dc.rows}, {"spilled_sp2", l.spilled_rows}}},
        {"packing",
         {{"enabled", l.packing},
          {"weight_bits", l.packed_w_bits},
          {"lane_offset", l.lane_offset},
          {"chain", l.chain},
          {"note", l.packing_note}}},
        {"tiling",
         {{"tiles", l.tiles},
          {"k_tiles", l.k_tiles},
          {"tile_n", l.tn},
          {"weights_resident", l.weights_resident}}},
        {"mapping", mapping_json(l)},
        {"balance",
         {{"mode",
           s.cfg.accelerator.scheduler.balance == BalanceMode::PerLayer ? "per_layer" : "fixed"},
          {"sp2_rows_on_lut_core", l.sp2_rows - l.spilled_rows},
          {"sp2_rows_on_dsp_core", l.spilled_rows},
          {"fixed_rows_on_dsp_core", l.fixed_rows},
          {"lut_core_estimated_cycles", l.est_compute.size() > 0 ? l.est_compute[0] : 0},
          {"dsp_core_estimated_cycles", l.est_compute.size() > 1 ? l.est_compute[1] : 0}}},
        {"quantization_error",
         {{"sp2", q.rel_err_sp2 < 0 ? json(nullptr) : json(q.rel_err_sp2)},
          {"fixed", q.rel_err_fixed < 0 ? json(nullptr) : json(q.rel_err_fixed)}}},
    });
    if (i < energy.layers.size()) layers.back().update(layer_energy_json(energy.layers[i]));
  }
  json j;
  j["total"] = totals_json(s);
  j["resources"] = resources;
  j["layers"] = layers;
  j["stats"] = stats_json(s.sim.stats, -1);
  if (s.graph_run) {
    // Every op of the graph in order, Conv / Fc included (their details are in layers[]).
    const Graph& g = s.graph;
    json ops = json::array();
    for (size_t i = 0; i < s.sim.ops.size(); ++i) {
      const OpResult& o = s.sim.ops[i];
      const Op& op = g.ops[i];
      const TensorDesc& t = g.tensors[size_t(op.output)];
      json in = json::array();
      for (int x : op.inputs) in.push_back(g.tensors[size_t(x)].name);
      json v = {{"checked", 0}, {"mismatches", 0}};
      if (s.verified && i < s.op_verify.size()) {
        const OpVerify& ov = s.op_verify[i];
        v = {{"checked", ov.checked}, {"mismatches", ov.mismatches}};
        if (ov.mismatches)
          v["first"] = {
              {"b", ov.b},    {"c", ov.c}, {"h", ov.h}, {"w", ov.w}, {"expected", ov.expected},
              {"got", ov.got}};
      }
      ops.push_back(
          {{"name", o.name},
           {"type", op_kind_name(o.kind)},
           {"engine", o.engine},
           {"layer", o.layer >= 0 ? json(s.sim.layers[size_t(o.layer)].name) : json(nullptr)},
           {"inputs", in},
           {"output",
            {{"name", t.name}, {"shape", {t.b, t.c, t.h, t.w}}, {"zero_point", t.zero_point}}},
           {"cycles", o.cycles},
           {"start_cycle", o.start_cycle},
           {"end_cycle", o.end_cycle},
           {"busy_cycles", o.busy_cycles},
           {"dram_bytes", o.dram_bytes},
           {"verify", v}});
    }
    j["ops"] = ops;
    j["graph"] = {{"ops", g.ops.size()},
                  {"tensors", g.tensors.size()},
                  {"vector_lanes", s.cfg.accelerator.vector.lanes},
                  {"vector_busy_cycles", s.sim.vector_busy_cycles},
                  {"dram_tensor_peak_bytes", s.sim.tensor_peak_bytes},
                  {"dram_tensor_peak_op", s.sim.tensor_peak_op},
                  {"dram_weight_bytes", s.sim.weight_dram_bytes},
                  {"dram_footprint_bytes", s.sim.weight_dram_bytes + s.sim.tensor_peak_bytes},
                  {"first_mismatch_op",
                   s.first_bad_op >= 0 ? json(g.ops[size_t(s.first_bad_op)].name) : json(nullptr)}};
  }
  j["verify"] = {{"enabled", s.verified},
                 {"outputs_checked", s.outputs_checked},
                 {"mismatches", s.mismatches},
                 {"overflow_count_mismatches", s.overflow_mismatches}};
  {
    uint64_t ovf = 0;
    int64_t rows = 0;
    int need = 0;
    for (const LayerResult& l : s.sim.layers) ovf += l.overflows, rows += l.m;
    for (const OverflowRisk& r : s.risk) need = std::max(need, r.bits_needed);
    j["overflow"] = {{"values_computed", s.verified},
                     {"overflows", s.verified ? json(ovf) : json(nullptr)},
                     {"risk_rows", total_risk_rows(s.risk)},
                     {"rows", rows},
                     {"accumulator_bits", acc_bits_of(s.wl)},
                     {"mode", overflow_mode(s.wl)},
                     {"bits_needed", need},
                     {"bound", bound_from_weights(s.risk) ? "weights" : "bit widths"}};
  }
  j["config"] = config_to_json(s.cfg);
  // How long the simulator itself took (wall clock), for speed tracking; not part of the model.
  j["runtime_s"] = {{"build_workload", s.seconds_build},
                    {"check", s.seconds_check},
                    {"simulate", s.seconds_simulate},
                    {"verify", s.seconds_verify}};
  // Which kernel variant ran: the speed depends on it, the values do not.
  j["kernels"] = kernels::isa_name(kernels::active_isa());
  return j;
}

std::string report_csv(const Session& s) {
  const double mhz = s.cfg.clock_mhz;
  const auto [lut, dsp] = contract_engines(s.sim);
  int64_t peak_all = 0;
  for (const EngineInfo& e : s.sim.engines) peak_all += e.peak_macs_per_cycle;
  std::vector<std::string> head = {"layer",
                                   "m",
                                   "k",
                                   "n",
                                   "sp2_rows",
                                   "fixed_rows",
                                   "cycles",
                                   "macs",
                                   "gops",
                                   "bound",
                                   "lut_core_busy_cycles",
                                   "dsp_core_busy_cycles",
                                   "lut_core_macs",
                                   "dsp_core_macs",
                                   "lut_core_busy_share",
                                   "dsp_core_busy_share",
                                   "lut_core_mac_utilization",
                                   "dsp_core_mac_utilization",
                                   "mac_utilization",
                                   "lut_stall_dram",
                                   "lut_stall_buffer",
                                   "lut_stall_other_core",
                                   "dsp_stall_dram",
                                   "dsp_stall_buffer",
                                   "dsp_stall_other_core",
                                   "dram_bytes",
                                   "dram_gbps",
                                   "overflows",
                                   "overflow_risk_rows",
                                   "acc_bits_needed",
                                   "verify_checked",
                                   "verify_mismatches",
                                   "energy_j",
                                   "energy_lut_core_j",
                                   "energy_dsp_core_j",
                                   "energy_buffers_j",
                                   "energy_dma_j",
                                   "energy_dram_j",
                                   "energy_static_j",
                                   "mapping_order",
                                   "tile_m",
                                   "tile_k",
                                   "tile_n",
                                   "m_tiles",
                                   "k_tiles",
                                   "n_tiles",
                                   "groups_per_block",
                                   "weight_reloads",
                                   "weight_dram_bytes",
                                   "input_dram_bytes",
                                   "output_dram_bytes",
                                   "lut_core_rows",
                                   "dsp_core_rows",
                                   "spilled_sp2_rows"};
  // One column group per engine, then one column per block counter (the `stats` object).
  for (const EngineInfo& e : s.sim.engines)
    for (const char* c : {"rows", "busy_cycles", "busy_share", "macs", "mac_utilization"})
      head.push_back("engine." + e.name + "." + c);
  walk_stats(s.sim.stats, -1, [&](const std::string& block, const StatGroup::Counter& c, int64_t) {
    head.push_back("stats." + block + "." + c.name);
  });
  std::string o = csv_line(head);
  const EnergyResult energy = session_energy(s);
  const auto num = [](auto v) { return fmt::format("{}", v); };
  const auto frac = [](double v) { return fmt::format("{:.4f}", v); };
  for (size_t i = 0; i < s.sim.layers.size(); ++i) {
    const LayerResult& l = s.sim.layers[i];
    const CoreResult none;
    const CoreResult& lc = lut >= 0 ? l.core[size_t(lut)] : none;
    const CoreResult& dc = dsp >= 0 ? l.core[size_t(dsp)] : none;
    const int64_t lp = lut >= 0 ? s.sim.engines[size_t(lut)].peak_macs_per_cycle : 0;
    const int64_t dp = dsp >= 0 ? s.sim.engines[size_t(dsp)].peak_macs_per_cycle : 0;
    int64_t all_macs = 0;
    for (const CoreResult& c : l.core) all_macs += c.macs;
    std::vector<std::string> row = {
        l.name, num(l.m), num(l.k), num(l.n), num(l.sp2_rows), num(l.fixed_rows), num(l.cycles),
        num(l.macs), fmt::format("{:.3f}", gops_of(l.macs, l.cycles, mhz)), l.bound, num(lc.busy),
        num(dc.busy), num(lc.macs), num(dc.macs), frac(share(lc.busy, l.cycles)),
        frac(share(dc.busy, l.cycles)), frac(mac_utilization(lc.macs, l.cycles, lp)),
        frac(mac_utilization(dc.macs, l.cycles, dp)),
        frac(mac_utilization(all_macs, l.cycles, peak_all)), num(lc.stall_dram),
        num(lc.stall_buffer), num(lc.stall_other), num(dc.stall_dram), num(dc.stall_buffer),
        num(dc.stall_other), num(l.dram_bytes),
        fmt::format("{:.3f}", gbps_of(l.dram_bytes, l.cycles, mhz)),
        // Without values nothing is counted: an empty cell, not a misleading 0.
        s.verified ? num(l.overflows) : "", num(s.risk[i].rows), num(s.risk[i].bits_needed),
        s.verified ? num(s.verify[i].checked) : "", s.verified ? num(s.verify[i].mismatches) : "",
        energy_cell(energy, i, ""), energy_cell(energy, i, "lut_core"),
        energy_cell(energy, i, "dsp_core"), energy_cell(energy, i, "buffers"),
        energy_cell(energy, i, "dma"), energy_cell(energy, i, "dram"),
        energy_cell(energy, i, "static"), l.mapping.order, num(l.tile_m), num(l.tile_k), num(l.tn),
        num(l.m_tiles), num(l.k_tiles), num(l.tiles), num(l.group_pack),
        fmt::format("{:.3f}",
                    l.weight_bytes > 0 ? double(l.dram_by[0]) / double(l.weight_bytes) : 0.0),
        num(l.dram_by[0]), num(l.dram_by[1]), num(l.dram_by[2]), num(lc.rows), num(dc.rows),
        num(l.spilled_rows)};
    for (size_t e = 0; e < s.sim.engines.size(); ++e) {
      const CoreResult& c = l.core[e];
      row.push_back(num(c.rows));
      row.push_back(num(c.busy));
      row.push_back(frac(share(c.busy, l.cycles)));
      row.push_back(num(c.macs));
      row.push_back(frac(mac_utilization(c.macs, l.cycles, s.sim.engines[e].peak_macs_per_cycle)));
    }
    walk_stats(s.sim.stats, int(i), [&](const std::string&, const StatGroup::Counter&, int64_t v) {
      row.push_back(num(v));
    });
    o += csv_line(row);
  }
  return o;
}

std::string resources_summary(const json& resources) {
  std::string r;
  for (const char* k : {"lut", "ff", "dsp", "bram36"}) {
    if (!resources.contains(k)) continue;
    const int64_t used = resources[k]["used"].get<int64_t>();
    const int64_t avail = resources[k]["available"].get<int64_t>();
    double pct = resources[k]["percent"].get<double>();
    // Rounded up when over, as the overfull message rounds: 901 of 900 reads 101%, not 100%.
    if (used > avail && avail > 0) pct = double((used * 100 + avail - 1) / avail);
    r += fmt::format("{}{} {}/{} ({:.0f}%)", r.empty() ? "" : " ", k, used, avail, pct);
  }
  return r;
}

std::string accumulator_summary(const Workload& wl, const std::vector<OverflowRisk>& risk,
                                const std::vector<uint64_t>* overflows) {
  int64_t rows = 0;
  int need = 0;
  for (const QuantLayer& q : wl.layers) rows += q.shape.m();
  for (const OverflowRisk& r : risk) need = std::max(need, r.bits_needed);
  std::string counted = "overflows not counted";
  if (overflows) {
    uint64_t n = 0;
    for (uint64_t v : *overflows) n += v;
    counted = fmt::format("{} overflows", n);
  }
  return fmt::format(
      "{} bits ({}){}; rows need up to {} bits (bound from {}); {} of {} rows at risk; {}",
      acc_bits_of(wl), overflow_mode(wl), per_row_note(wl), need,
      bound_from_weights(risk) ? "the weights" : "the bit widths", total_risk_rows(risk), rows,
      counted);
}

std::string overflow_warning(const Workload& wl, const std::vector<OverflowRisk>& risk,
                             const std::vector<uint64_t>* overflows) {
  uint64_t counted = 0;
  if (overflows)
    for (uint64_t v : *overflows) counted += v;
  const int64_t at_risk = total_risk_rows(risk);
  if (counted == 0 && at_risk == 0) return "";
  int64_t rows = 0;
  int need = 0;
  for (const QuantLayer& q : wl.layers) rows += q.shape.m();
  for (const OverflowRisk& r : risk) need = std::max(need, r.bits_needed);
  // The worst layers: by overflows counted when there are any, else by rows at risk.
  std::vector<std::pair<uint64_t, size_t>> by;
  for (size_t l = 0; l < wl.layers.size(); ++l) {
    const uint64_t v = counted > 0 ? (*overflows)[l] : uint64_t(risk[l].rows);
    if (v > 0) by.emplace_back(v, l);
  }
  std::stable_sort(by.begin(), by.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::string worst;
  for (size_t i = 0; i < by.size() && i < 3; ++i)
    worst += fmt::format(
        "{}{} {}", i ? ", " : "", wl.layers[by[i].second].shape.name,
        counted > 0 ? fmt::format("{}", by[i].first)
                    : fmt::format("{} of {} rows", by[i].first, wl.layers[by[i].second].shape.m()));
  if (by.size() > 3) worst += ", ...";
  const int acc = acc_bits_of(wl);
  if (counted > 0)
    return fmt::format(
        "warning: {} accumulator overflows ({}-bit accumulator, {}{}) in {} of {} layers: {}; "
        "{} of {} rows at risk, needing up to {} bits{}",
        counted, acc, overflow_mode(wl), per_row_note(wl), by.size(), wl.layers.size(), worst,
        at_risk, rows, need,
        " (the functional model overflows the same way, so verification cannot flag them)");
  return fmt::format(
      "warning: {} of {} rows could overflow the {}-bit accumulator (they need up to {} bits, "
      "bound from {}){}: {}",
      at_risk, rows, acc, need, bound_from_weights(risk) ? "the weights" : "the bit widths",
      overflows ? ", though none did on this data" : "; overflows are only counted with values",
      worst);
}

void print_report(std::ostream& out, const Session& s, const json& resources) {
  const double mhz = s.cfg.clock_mhz;
  const std::vector<EngineInfo>& engines = s.sim.engines;
  const auto& a = s.cfg.accelerator;
  const char* dsp_kind = s.cfg.device.dsp_kind == DspKind::DSP48E1 ? "DSP48E1" : "DSP48E2";
  std::string arrays;
  if (a.engines.empty()) {
    arrays = fmt::format("LUT core {}x{}, DSP core {}x{} ({})", a.lut_core.rows, a.lut_core.cols,
                         a.dsp_core.rows, a.dsp_core.cols, dsp_kind);
  } else {
    for (const EngineSpec& e : a.engines)
      arrays += fmt::format("{}{} {}x{} ({})", arrays.empty() ? "" : ", ", e.name, e.rows, e.cols,
                            e.impl);
  }
  out << fmt::format("msqsim: {} on {} at {} MHz: {}, SP2 fraction {}\n", s.wl.name,
                     s.cfg.device.name, mhz, arrays, s.cfg.workload.sp2_fraction);
  // The layer column fits the longest name: a cut name can be ambiguous (ResNet's
  // layer3.0.downsample.0 and layer3.0.downsample.1 share 16 characters).
  size_t w = 5;
  for (const LayerResult& l : s.sim.layers) w = std::max(w, l.name.size());
  for (const OpResult& o : s.sim.ops) w = std::max(w, o.name.size());
  // Per engine a column group: its busy share ("busy%") and its MAC utilization ("MAC%"), named
  // so that one is not taken for the other.
  std::vector<size_t> cw;
  std::string groups;
  for (const EngineInfo& e : engines) {
    const std::string busy = engine_label(e) + " busy%", mac = engine_label(e) + " MAC%";
    cw.push_back(std::max<size_t>(busy.size(), 8));
    cw.push_back(std::max<size_t>(mac.size(), 8));
    groups += fmt::format(" {:>{}} {:>{}}", busy, cw[cw.size() - 2], mac, cw.back());
  }
  out << fmt::format(
      "{:<{}} {:>5} {:>5} {:>6} {:>4} {:>4} {:>10} {:>7} {:>7}{} {:>19} "
      "{:>8} {:>6} {:>5} {:>4} {}\n",
      "layer", w, "M", "K", "N", "SP2", "FIX", "cycles", "MMAC", "GOPS", groups,
      "stall dram/buf/oth", "DRAM KB", "GB/s", "ovf", "risk", s.verified ? "verify" : "bound");
  // A graph run lists its ops in graph order: the layers' rows as before, the vector engine's ops
  // between them.
  std::vector<int> rows;  // layer index, or -1 - op index
  if (s.graph_run) {
    for (size_t i = 0; i < s.sim.ops.size(); ++i)
      rows.push_back(s.sim.ops[i].layer >= 0 ? s.sim.ops[i].layer : -1 - int(i));
  } else {
    for (size_t i = 0; i < s.sim.layers.size(); ++i) rows.push_back(int(i));
  }
  for (int row : rows) {
    if (row < 0) {
      const size_t oi = size_t(-1 - row);
      const OpResult& o = s.sim.ops[oi];
      std::string check;
      if (s.verified)
        check = s.op_verify[oi].mismatches == 0
                    ? " ok"
                    : fmt::format(" {} BAD", s.op_verify[oi].mismatches);
      out << fmt::format("{:<{}} {:>28} {:>10}  vector engine, {} busy cycles, DRAM {:.1f} KB{}\n",
                         o.name, w, op_kind_name(o.kind), o.cycles, o.busy_cycles,
                         double(o.dram_bytes) / 1024.0, check);
      continue;
    }
    const size_t i = size_t(row);
    const LayerResult& l = s.sim.layers[i];
    const double cyc = double(std::max<int64_t>(1, l.cycles));
    int64_t sd = 0, sb = 0, so = 0;
    std::string cells;
    for (size_t e = 0; e < l.core.size(); ++e) {
      const CoreResult& c = l.core[e];
      sd += c.stall_dram, sb += c.stall_buffer, so += c.stall_other;
      cells += fmt::format(
          " {:>{}.1f} {:>{}.1f}", 100.0 * double(c.busy) / cyc, cw[2 * e],
          100.0 * mac_utilization(c.macs, l.cycles, engines[e].peak_macs_per_cycle), cw[2 * e + 1]);
    }
    std::string check = l.bound;
    if (s.verified)
      check =
          l.bound +
          (s.verify[i].mismatches == 0 ? " ok" : fmt::format(" {} BAD", s.verify[i].mismatches));
    out << fmt::format(
        "{:<{}} {:>5} {:>5} {:>6} {:>4} {:>4} {:>10} {:>7.1f} {:>7.1f}{} {:>19} {:>8.1f} {:>6.2f} "
        "{:>5} {:>4} {}\n",
        l.name, w, l.m, l.k, l.n, l.sp2_rows, l.fixed_rows, l.cycles, double(l.macs) / 1e6,
        gops_of(l.macs, l.cycles, mhz), cells, fmt::format("{}/{}/{}", sd, sb, so),
        double(l.dram_bytes) / 1024.0, gbps_of(l.dram_bytes, l.cycles, mhz),
        s.verified ? fmt::format("{}", l.overflows) : "-", s.risk[i].rows, check);
  }
  const Totals t = totals(s);
  out << fmt::format(
      "total: {} cycles, {:.3f} ms, {:.1f} GOPS, {:.1f} frames/s, {:.3f} GMAC, DRAM {:.1f} MB at "
      "{:.2f} GB/s (peak {:.2f}, row hits {:.0f}%)\n",
      t.cycles, t.latency_ms, t.gops, t.frames_per_s, double(t.macs) / 1e9,
      double(t.dram_bytes) / 1e6, gbps_of(t.dram_bytes, t.cycles, mhz),
      s.sim.dram_peak_bytes_per_s / 1e9, 100.0 * s.sim.dram.hit_rate());
  // Busy share and MAC utilization side by side, named so that one is not taken for the other:
  // a core busy all the time on short row blocks or narrow tiles does a fraction of its peak.
  std::string cores;
  for (size_t e = 0; e < engines.size(); ++e)
    cores += fmt::format("{}{} {:.0f}% busy, {:.0f}% MAC utilization (peak {} MAC/cycle)",
                         e ? "; " : "", engine_title(engines[e]), 100.0 * t.util[e],
                         100.0 * t.mac_util_of[e], engines[e].peak_macs_per_cycle);
  out << fmt::format(
      "cores: {}; {} {:.0f}% MAC utilization\n", cores,
      engines.size() == 2 ? std::string("both") : fmt::format("all {}", engines.size()),
      100.0 * t.mac_util);
  if (s.graph_run)
    out << fmt::format(
        "graph: {} ops ({} on the cores, {} on the {}-lane vector engine: {} busy cycles); DRAM "
        "footprint {:.1f} MB (weights {:.1f} MB, activations at most {:.1f} MB alive, at {})\n",
        s.sim.ops.size(), s.sim.layers.size(), s.sim.ops.size() - s.sim.layers.size(),
        a.vector.lanes, s.sim.vector_busy_cycles,
        double(s.sim.weight_dram_bytes + s.sim.tensor_peak_bytes) / 1e6,
        double(s.sim.weight_dram_bytes) / 1e6, double(s.sim.tensor_peak_bytes) / 1e6,
        s.sim.tensor_peak_op);
  // What each block counted over the run, one line per block.
  std::string block, line;
  walk_stats(s.sim.stats, -1, [&](const std::string& b, const StatGroup::Counter& c, int64_t v) {
    if (b != block) {
      if (!line.empty()) out << line << "\n";
      block = b;
      line = "stats: " + b + ":";
    }
    line += fmt::format(" {} {} {}{}", c.name, v, unit_name(c.unit), "");
  });
  if (!line.empty()) out << line << "\n";
  out << "energy: " << energy_summary(session_energy(s)) << "\n";
  if (!resources.is_null()) out << "resources: " << resources_summary(resources) << "\n";
  if (s.verified)
    out << fmt::format(
        "verify: {} outputs checked against the functional model, {} mismatches{}\n",
        s.outputs_checked, s.mismatches,
        s.overflow_mismatches
            ? fmt::format(", {} layers with differing overflow counts", s.overflow_mismatches)
            : "");
  else
    out << "verify: off (--no-verify): timing only, no values computed\n";
  const std::vector<uint64_t> ovf = layer_overflows(s);
  out << "accumulator: " << accumulator_summary(s.wl, s.risk, s.verified ? &ovf : nullptr) << "\n";
}

}  // namespace msq
