#include "sim/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "models/kernels/isa.h"
#include "sim/config_loader.h"

namespace msq {

using nlohmann::json;

namespace {

double gops_of(int64_t macs, int64_t cycles, double mhz) {
  return cycles > 0 ? 2.0 * double(macs) * mhz * 1e6 / double(cycles) / 1e9 : 0.0;
}
double gbps_of(int64_t bytes, int64_t cycles, double mhz) {
  return cycles > 0 ? double(bytes) * mhz * 1e6 / double(cycles) / 1e9 : 0.0;
}
json core_json(const CoreResult& c) {
  return {{"busy_cycles", c.busy},
          {"jobs", c.jobs},
          {"stall_cycles",
           {{"dram", c.stall_dram}, {"buffer", c.stall_buffer}, {"other_core", c.stall_other}}}};
}

}  // namespace

Totals totals(const Session& s) {
  Totals t;
  t.cycles = s.sim.total_cycles;
  int64_t lut = 0, dsp = 0;
  for (const LayerResult& l : s.sim.layers) {
    t.macs += l.macs;
    t.dram_bytes += l.dram_bytes;
    lut += l.core[0].busy;
    dsp += l.core[1].busy;
  }
  const double mhz = s.cfg.clock_mhz;
  t.latency_ms = double(t.cycles) / mhz / 1e3;
  t.gops = gops_of(t.macs, t.cycles, mhz);
  t.frames_per_s = t.cycles > 0 ? s.cfg.workload.batch / (t.latency_ms / 1e3) : 0.0;
  t.lut_util = t.cycles > 0 ? double(lut) / double(t.cycles) : 0.0;
  t.dsp_util = t.cycles > 0 ? double(dsp) / double(t.cycles) : 0.0;
  return t;
}

json totals_json(const Session& s) {
  const Totals t = totals(s);
  const double mhz = s.cfg.clock_mhz;
  return {{"cycles", t.cycles},
          {"latency_ms", t.latency_ms},
          {"gops", t.gops},
          {"frames_per_s", t.frames_per_s},
          {"macs", t.macs},
          {"dram_bytes", t.dram_bytes},
          {"lut_core_utilization", t.lut_util},
          {"dsp_core_utilization", t.dsp_util},
          {"dram_gbps", gbps_of(t.dram_bytes, t.cycles, mhz)},
          {"dram_peak_gbps", s.sim.dram_peak_bytes_per_s / 1e9},
          {"dram_row_hit_rate", s.sim.dram.hit_rate()}};
}

json report_json(const Session& s, const json& resources) {
  const double mhz = s.cfg.clock_mhz;
  json layers = json::array();
  for (size_t i = 0; i < s.sim.layers.size(); ++i) {
    const LayerResult& l = s.sim.layers[i];
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
        {"lut_core_busy_cycles", l.core[0].busy},
        {"dsp_core_busy_cycles", l.core[1].busy},
        {"lut_core", core_json(l.core[0])},
        {"dsp_core", core_json(l.core[1])},
        {"memory_cycles", l.memory_cycles},
        {"dram_bytes", l.dram_bytes},
        {"dram_gbps", gbps_of(l.dram_bytes, l.cycles, mhz)},
        {"overflows", l.overflows},
        {"values_computed", s.verified},
        {"verify", v},
        {"rows",
         {{"lut_core", l.lut_rows}, {"dsp_core", l.dsp_rows}, {"spilled_sp2", l.spilled_rows}}},
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
        {"quantization_error",
         {{"sp2", q.rel_err_sp2 < 0 ? json(nullptr) : json(q.rel_err_sp2)},
          {"fixed", q.rel_err_fixed < 0 ? json(nullptr) : json(q.rel_err_fixed)}}},
    });
  }
  json j;
  j["total"] = totals_json(s);
  j["resources"] = resources;
  j["layers"] = layers;
  j["verify"] = {{"enabled", s.verified},
                 {"outputs_checked", s.outputs_checked},
                 {"mismatches", s.mismatches},
                 {"overflow_count_mismatches", s.overflow_mismatches}};
  j["config"] = config_to_json(s.cfg);
  // How long the simulator itself took (wall clock), for speed tracking; not part of the model.
  j["runtime_s"] = {{"build_workload", s.seconds_build},
                    {"simulate", s.seconds_simulate},
                    {"verify", s.seconds_verify}};
  // Which kernel variant ran: the speed depends on it, the values do not.
  j["kernels"] = kernels::isa_name(kernels::active_isa());
  return j;
}

std::string report_csv(const Session& s) {
  const double mhz = s.cfg.clock_mhz;
  std::ostringstream o;
  o << "layer,m,k,n,sp2_rows,fixed_rows,cycles,macs,gops,bound,lut_core_busy_cycles,"
       "dsp_core_busy_cycles,lut_stall_dram,lut_stall_buffer,lut_stall_other_core,"
       "dsp_stall_dram,dsp_stall_buffer,dsp_stall_other_core,dram_bytes,dram_gbps,overflows,"
       "verify_checked,verify_mismatches\n";
  for (size_t i = 0; i < s.sim.layers.size(); ++i) {
    const LayerResult& l = s.sim.layers[i];
    o << fmt::format(
        "{},{},{},{},{},{},{},{},{:.3f},{},{},{},{},{},{},{},{},{},{},{:.3f},{},{},{}\n", l.name,
        l.m, l.k, l.n, l.sp2_rows, l.fixed_rows, l.cycles, l.macs, gops_of(l.macs, l.cycles, mhz),
        l.bound, l.core[0].busy, l.core[1].busy, l.core[0].stall_dram, l.core[0].stall_buffer,
        l.core[0].stall_other, l.core[1].stall_dram, l.core[1].stall_buffer, l.core[1].stall_other,
        l.dram_bytes, gbps_of(l.dram_bytes, l.cycles, mhz),
        s.verified ? fmt::format("{}", l.overflows) : "",
        s.verified ? fmt::format("{}", s.verify[i].checked) : "",
        s.verified ? fmt::format("{}", s.verify[i].mismatches) : "");
  }
  return o.str();
}

void print_report(std::ostream& out, const Session& s, const json& resources) {
  const double mhz = s.cfg.clock_mhz;
  const auto& a = s.cfg.accelerator;
  out << fmt::format(
      "msqsim: {} on {} at {} MHz: LUT core {}x{}, DSP core {}x{} ({}), SP2 fraction {}\n",
      s.wl.name, s.cfg.device.name, mhz, a.lut_core.rows, a.lut_core.cols, a.dsp_core.rows,
      a.dsp_core.cols, s.cfg.device.dsp_kind == DspKind::DSP48E1 ? "DSP48E1" : "DSP48E2",
      s.cfg.workload.sp2_fraction);
  out << fmt::format(
      "{:<16} {:>5} {:>5} {:>6} {:>4} {:>4} {:>10} {:>7} {:>7} {:>5} {:>5} {:>19} {:>8} {:>6} "
      "{:>5} {}\n",
      "layer", "M", "K", "N", "SP2", "FIX", "cycles", "MMAC", "GOPS", "LUT%", "DSP%",
      "stall dram/buf/oth", "DRAM KB", "GB/s", "ovf", s.verified ? "verify" : "bound");
  for (size_t i = 0; i < s.sim.layers.size(); ++i) {
    const LayerResult& l = s.sim.layers[i];
    const double cyc = double(std::max<int64_t>(1, l.cycles));
    const int64_t sd = l.core[0].stall_dram + l.core[1].stall_dram;
    const int64_t sb = l.core[0].stall_buffer + l.core[1].stall_buffer;
    const int64_t so = l.core[0].stall_other + l.core[1].stall_other;
    std::string check = l.bound;
    if (s.verified)
      check =
          l.bound +
          (s.verify[i].mismatches == 0 ? " ok" : fmt::format(" {} BAD", s.verify[i].mismatches));
    out << fmt::format(
        "{:<16} {:>5} {:>5} {:>6} {:>4} {:>4} {:>10} {:>7.1f} {:>7.1f} {:>5.1f} {:>5.1f} {:>19} "
        "{:>8.1f} {:>6.2f} {:>5} {}\n",
        l.name.substr(0, 16), l.m, l.k, l.n, l.sp2_rows, l.fixed_rows, l.cycles,
        double(l.macs) / 1e6, gops_of(l.macs, l.cycles, mhz), 100.0 * double(l.core[0].busy) / cyc,
        100.0 * double(l.core[1].busy) / cyc, fmt::format("{}/{}/{}", sd, sb, so),
        double(l.dram_bytes) / 1024.0, gbps_of(l.dram_bytes, l.cycles, mhz),
        s.verified ? fmt::format("{}", l.overflows) : "-", check);
  }
  const Totals t = totals(s);
  out << fmt::format(
      "total: {} cycles, {:.3f} ms, {:.1f} GOPS, {:.1f} frames/s, {:.3f} GMAC, DRAM {:.1f} MB at "
      "{:.2f} GB/s (peak {:.2f}, row hits {:.0f}%), LUT core {:.0f}% busy, DSP core {:.0f}% busy\n",
      t.cycles, t.latency_ms, t.gops, t.frames_per_s, double(t.macs) / 1e9,
      double(t.dram_bytes) / 1e6, gbps_of(t.dram_bytes, t.cycles, mhz),
      s.sim.dram_peak_bytes_per_s / 1e9, 100.0 * s.sim.dram.hit_rate(), 100.0 * t.lut_util,
      100.0 * t.dsp_util);
  if (!resources.is_null()) {
    std::string r = "resources:";
    for (const char* k : {"lut", "ff", "dsp", "bram36"})
      if (resources.contains(k))
        r += fmt::format(" {} {}/{} ({:.0f}%)", k, resources[k]["used"].get<int64_t>(),
                         resources[k]["available"].get<int64_t>(),
                         resources[k]["percent"].get<double>());
    out << r << "\n";
  }
  if (s.verified)
    out << fmt::format(
        "verify: {} outputs checked against the functional model, {} mismatches{}\n",
        s.outputs_checked, s.mismatches,
        s.overflow_mismatches
            ? fmt::format(", {} layers with differing overflow counts", s.overflow_mismatches)
            : "");
  else
    out << "verify: off (--no-verify): timing only, no values computed\n";
}

}  // namespace msq
