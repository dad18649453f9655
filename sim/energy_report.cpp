#include "sim/energy_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>
#include <vector>

namespace msq {

using nlohmann::json;

namespace {

// The DSP48's P register and post-adder (UG479, UG579): 48 bits in both families.
constexpr int64_t kDspAccumulatorBits = 48;

}  // namespace

DramPowerSpec dram_power_spec(const DramConfig& d) {
  DramPowerSpec s;
  s.vdd = d.VDD, s.idd0 = d.IDD0, s.idd2n = d.IDD2N, s.idd3n = d.IDD3N;
  s.idd4r = d.IDD4R, s.idd4w = d.IDD4W, s.idd5b = d.IDD5B;
  s.vpp = d.VPP, s.ipp0 = d.IPP0, s.ipp3n = d.IPP3N, s.ipp5b = d.IPP5B;
  s.devices = d.channels * std::max(1, d.data_width_bits / std::max(1, d.device_width_bits));
  s.tck_ns = 1e3 / d.clock_mhz;
  s.tRAS = d.tRAS, s.tRP = d.tRP, s.tRFC = d.tRFC;
  s.burst_cycles = std::max(1, d.burst_length / 2);
  return s;
}

RunActions run_actions(const Session& s, const ResourceCosts& costs) {
  const RunConfig& cfg = s.cfg;
  const auto& acc = cfg.accelerator;
  const int a = cfg.workload.act_bits, b = cfg.workload.weight_bits;
  const std::vector<EngineSpec> specs = engine_specs(acc);
  // Each engine's own PE: its kind's cost at its keys and accumulator (docs/resources.md).
  std::vector<double> pe_luts;
  std::vector<bool> is_dsp;
  for (const EngineSpec& sp : specs) {
    RunConfig one = cfg;
    one.accelerator.lut_core = sp.lut();
    one.accelerator.dsp_core = sp.dsp();
    if (sp.own_accumulator) one.accelerator.accumulator = sp.accumulator;
    const bool dsp = sp.impl == "dsp48" || sp.impl == "dsp48_actpack";
    is_dsp.push_back(dsp);
    pe_luts.push_back((sp.impl == "lut_sp2_bitserial" ? bitserial_pe_cost(one, costs)
                       : sp.impl == "dsp48_actpack"   ? actpack_pe_cost(one, costs)
                       : dsp                          ? dsp_pe_cost(one, costs)
                                                      : sp2_pe_cost(one, costs))
                          .lut);
  }
  // Every block whose statistics count BRAM accesses, found by its counters rather than by name:
  // the weight buffers are one per engine.
  std::vector<std::tuple<const StatGroup*, int, int>> bram;
  for (const StatGroup& g : s.sim.stats)
    if (g.find("bram_reads") >= 0)
      bram.emplace_back(&g, g.find("bram_reads"), g.find("bram_writes"));
  RunActions r;
  r.clock_mhz = cfg.clock_mhz;
  r.total_cycles = s.sim.total_cycles;
  r.batch = cfg.workload.batch;
  r.static_power_w = cfg.device.static_power_w;
  for (size_t i = 0; i < s.sim.layers.size(); ++i) {
    const LayerResult& l = s.sim.layers[i];
    const QuantLayer& q = s.wl.layers[i];
    r.macs += l.macs;
    LayerActions la;
    la.name = l.name;
    la.cycles = l.cycles;
    for (size_t e = 0; e < specs.size() && e < l.core.size(); ++e) {
      const CoreResult& c = l.core[e];
      const std::string& name = specs[e].name;
      if (!is_dsp[e]) {
        // A LUT engine: one PE operation per MAC; every LUT of the PE counted.
        la.ops.push_back({name, c.macs, pe_luts[e], 0, 0});
        continue;
      }
      // A DSP engine: packed slices do two MACs per operation; 8-bit rows run one per slice.
      int64_t rows8 = 0;
      for (size_t m = 0; m < q.bits.size() && m < l.row_engine.size(); ++m)
        rows8 += l.row_engine[m] == int8_t(e) && q.bits[m] >= 8;
      const int64_t macs8 = c.rows > 0 ? c.macs * std::min(rows8, c.rows) / c.rows : 0;
      const int64_t low = c.macs - macs8;
      // The layer's row packing is that of its packing engine (dsp48 packs rows; dsp48_actpack
      // packs columns inside its own jobs and is counted one product per MAC here).
      if (l.packing && l.packed_w_bits > 0 && specs[e].impl == "dsp48") {
        // The slice accumulates in P; the fabric lanes take the sum once per chain (the drain).
        const int64_t width = int64_t(l.lane_offset + l.packed_w_bits) * a;
        la.ops.push_back({name, low / 2 + low % 2,
                          pe_luts[e] / double(std::max<int64_t>(1, l.chain)), width,
                          kDspAccumulatorBits});
      } else {
        la.ops.push_back({name, low, 0.0, int64_t(b) * a, kDspAccumulatorBits});
      }
      la.ops.push_back({name, macs8, 0.0, int64_t(8) * a, kDspAccumulatorBits});
    }
    // The buffers' BRAM accesses, as the blocks that read and write them counted them.
    for (const auto& [g, reads, writes] : bram)
      la.bram_reads += g->at(reads, int(i)), la.bram_writes += g->at(writes, int(i));
    la.dram_read_bytes = l.dram_by[0] + l.dram_by[1];
    la.dram_write_bytes = l.dram_by[2];
    r.layers.push_back(std::move(la));
  }
  // DRAM commands and states.
  const DramStats& d = s.sim.dram;
  const DramConfig& dc = cfg.memory.dram;
  r.dram.activates = d.activates, r.dram.precharges = d.precharges;
  r.dram.reads = d.read_bursts, r.dram.writes = d.write_bursts, r.dram.refreshes = d.refreshes;
  const double latency = cfg.clock_mhz > 0 ? double(s.sim.total_cycles) / (cfg.clock_mhz * 1e6) : 0;
  const double end = latency * dc.clock_mhz * 1e6;  // in DRAM cycles
  double closed = double(d.precharged_cycles);
  for (int64_t since : d.closed_since)
    if (since >= 0) closed += std::max(0.0, end - double(since));
  const double precharged =
      std::min(latency, closed / std::max(1, dc.channels) / (dc.clock_mhz * 1e6));
  r.dram.precharged_s = precharged;
  r.dram.active_s = latency - precharged;
  return r;
}

const ResourceCosts& shipped_resource_costs() {
  static const ResourceCosts costs = load_resource_costs(default_resource_costs_path());
  return costs;
}

EnergyResult session_energy(const Session& s) {
  return compute_energy(run_actions(s, shipped_resource_costs()), s.cfg.energy.k,
                        dram_power_spec(s.cfg.memory.dram));
}

namespace {
json blocks_json(const BlockEnergy& b) {
  json j = json::object();
  for (const auto& [name, v] : b.by_block) j[name] = v;
  return j;
}
}  // namespace

json energy_json(const EnergyResult& e, const RunConfig& cfg) {
  json actions = json::object();
  for (const ActionTotal& a : e.actions)
    actions[a.action] = {{"count", a.count}, {"energy_j", a.energy_j}};
  json coeffs = json::object();
  for (const EnergyKey& k : energy_keys()) {
    const auto src = cfg.energy.k.source.find(k.path());
    coeffs[k.path()] = {{"value", cfg.energy.k.*(k.member)},
                        {"unit", k.unit},
                        {"source", src == cfg.energy.k.source.end() ? "" : src->second}};
  }
  return {{"j_per_frame", e.j_per_frame},
          {"avg_power_w", e.avg_power_w},
          {"gops_per_w", e.gops_per_w},
          {"total_j", e.total_j},
          {"static_j", e.static_j},
          {"dynamic_j", e.dynamic_j},
          {"static_power_w", cfg.device.static_power_w},
          {"by_block", blocks_json(e.blocks)},
          {"actions", actions},
          {"dram",
           {{"modelled", e.dram_modelled},
            {"act_pre_j", e.dram_act_pre_j},
            {"read_j", e.dram_read_j},
            {"write_j", e.dram_write_j},
            {"refresh_j", e.dram_refresh_j},
            {"background_j", e.dram_background_j},
            {"commands",
             {{"activates", e.dram.activates},
              {"precharges", e.dram.precharges},
              {"reads", e.dram.reads},
              {"writes", e.dram.writes},
              {"refreshes", e.dram.refreshes}}},
            {"active_s", e.dram.active_s},
            {"precharged_s", e.dram.precharged_s}}},
          {"costs",
           {{"name", cfg.energy.costs}, {"file", cfg.energy.k.file}, {"coefficients", coeffs}}}};
}

json layer_energy_json(const LayerEnergy& l) {
  return {{"energy_j", l.total_j}, {"energy_by_block", blocks_json(l.blocks)}};
}

std::string energy_summary(const EnergyResult& e) {
  std::string shares;
  for (const auto& [name, j] : e.blocks.by_block)
    shares += fmt::format("{}{} {:.0f}%", shares.empty() ? "" : ", ", name,
                          e.total_j > 0 ? 100.0 * j / e.total_j : 0.0);
  return fmt::format("{:.2f} mJ/frame, {:.3f} W average ({:.3f} W static), {:.1f} GOPS/W; {}{}",
                     e.j_per_frame * 1e3, e.avg_power_w,
                     e.latency_s > 0 ? e.static_j / e.latency_s : 0.0, e.gops_per_w, shares,
                     e.dram_modelled ? "" : " (DRAM not modelled: no IDD currents)");
}

}  // namespace msq
